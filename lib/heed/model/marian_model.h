// A Marian model loaded as it is published (model/checkpoint.h lists the
// layouts): a Hugging Face MarianMT directory (config.json,
// generation_config.json, model.safetensors or pytorch_model.bin, source.spm,
// target.spm, vocab.json and target_vocab.json for separate vocabularies) or
// a native Marian release, packed for the compute type.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "heed/model/checkpoint.h"
#include "heed/model/config.h"
#include "heed/model/decoder.h"
#include "heed/model/encoder.h"
#include "heed/model/generation_config.h"
#include "heed/model/load_options.h"
#include "heed/model/source_language.h"
#include "heed/text/tokenizer.h"

namespace heed {

class MarianModel {
public:
  // `dir`: a model directory or its weights file. Throws ModelError naming the file and field or
  // tensor at fault.
  static std::shared_ptr<const MarianModel> load(const std::string &dir,
                                                 const LoadOptions &options = {});

  std::string directory; // the model directory
  CheckpointFormat format = CheckpointFormat::safetensors;
  std::string weights_path; // the file the weights came from
  // Marian models trained with guided alignment: the decoder layer whose first
  // cross-attention head was trained to align (0-based).
  std::optional<int64_t> alignment_layer;
  MarianConfig config;
  GenerationConfig generation;
  std::unique_ptr<Tokenizer> tokenizer;
  // The language its inputs are in, when the model says (for sentence rules).
  std::optional<ModelLanguage> source_language;
  Encoder encoder;
  Decoder decoder;

  ops::ComputeType compute_type = ops::ComputeType::float32;
  std::string weights_dtype;       // dtype(s) of the tensors on disk, e.g. "F32"
  int64_t packed_weight_bytes = 0; // the dense layers' weights as packed in memory
  int64_t weights_file_bytes = 0;  // size of the weights file
  int64_t parameter_count = 0;     // parameters actually loaded
  double load_seconds = 0;
};

} // namespace heed
