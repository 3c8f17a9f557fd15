// A Hugging Face MarianMT model directory, loaded as it is: config.json,
// generation_config.json (optional), model.safetensors, source.spm, target.spm,
// vocab.json (and target_vocab.json for separate vocabularies).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "heed/model/config.h"
#include "heed/model/decoder.h"
#include "heed/model/encoder.h"
#include "heed/model/generation_config.h"
#include "heed/model/load_options.h"
#include "heed/text/tokenizer.h"

namespace heed {

class MarianModel {
public:
  // Throws ModelError naming the file and field or tensor at fault.
  static std::shared_ptr<const MarianModel> load(const std::string &dir,
                                                 const LoadOptions &options = {});

  std::string directory;
  MarianConfig config;
  GenerationConfig generation;
  std::unique_ptr<Tokenizer> tokenizer;
  Encoder encoder;
  Decoder decoder;

  ops::ComputeType compute_type = ops::ComputeType::float32;
  std::string weights_dtype;       // dtype(s) of the tensors on disk, e.g. "F32"
  int64_t packed_weight_bytes = 0; // the dense layers' weights as packed in memory
  int64_t weights_file_bytes = 0;  // size of model.safetensors
  int64_t parameter_count = 0;     // parameters actually loaded
  double load_seconds = 0;
};

} // namespace heed
