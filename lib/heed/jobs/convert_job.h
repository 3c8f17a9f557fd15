// `heed convert --quantize int8`: a model directory rewritten with int8 weight
// matrices (I8 tensors, one F32 scale per output row) in the same Hugging Face
// layout, so heed loads it directly and computes in int8 by default.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace heed {

struct ConvertJob {
  std::string model_dir;
  std::string output_dir; // created in an existing parent; must not exist or be empty
};

struct ConvertReport {
  int64_t quantized_tensors = 0;
  int64_t kept_tensors = 0;
  int64_t input_bytes = 0;  // model.safetensors in
  int64_t output_bytes = 0; // model.safetensors out
  // Files of the input directory not copied (the model card, training logs,
  // weights of other frameworks), sorted. The copy gets a README.md of its own.
  std::vector<std::string> dropped;
};

// Throws ModelError for an unreadable or already quantized model, IoError for
// an unusable output directory.
ConvertReport run_convert(const ConvertJob &job);

// One line for the user: what was written and how much smaller it is.
std::string format_convert_report(const ConvertJob &job, const ConvertReport &report);

} // namespace heed
