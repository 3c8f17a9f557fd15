// `heed convert [--quantize int8|bfloat16]`: a model in any layout heed reads
// (model/checkpoint.h: safetensors, pytorch_model.bin, native Marian) rewritten
// as a Hugging Face safetensors directory, each tensor stored once; with
// --quantize, its weight matrices become int8 (I8 tensors, one F32 scale per
// output row) or bfloat16 (BF16 tensors), so heed loads it directly and
// computes in that type by default (bfloat16 where the processor has it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "heed/ops/compute_type.h"

namespace heed {

struct ConvertJob {
  std::string model_dir;
  std::string output_dir; // created in an existing parent; must not exist or be empty
  // What the weight matrices become: int8 or bfloat16; unset: they stay as
  // they are (a change of layout only, refused for a safetensors model).
  std::optional<ops::ComputeType> quantize;
};

struct ConvertReport {
  int64_t quantized_tensors = 0;
  int64_t kept_tensors = 0;
  std::string input_format; // checkpoint_format_name of the input
  int64_t input_bytes = 0;  // the weights file in
  int64_t output_bytes = 0; // model.safetensors out
  // Files of the input directory not copied (the model card, training logs,
  // weights of other frameworks), sorted. The copy gets a README.md of its own.
  std::vector<std::string> dropped;
};

// Throws ModelError for an unreadable or already converted model, IoError for
// an unusable output directory, OptionError for float32 as the target.
ConvertReport run_convert(const ConvertJob &job);

// One line for the user: what was written and how much smaller it is.
std::string format_convert_report(const ConvertJob &job, const ConvertReport &report);

} // namespace heed
