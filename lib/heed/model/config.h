// The architecture of a Marian model, read from a Hugging Face config.json with
// the defaults of transformers' MarianConfig for absent fields.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "heed/ops/activation.h"

namespace heed {

struct MarianConfig {
  int64_t vocab_size = 58101;         // source (and shared) vocabulary
  int64_t decoder_vocab_size = 58101; // target vocabulary
  int64_t max_position_embeddings = 1024;
  int64_t d_model = 1024;
  int64_t encoder_layers = 12;
  int64_t decoder_layers = 12;
  int64_t encoder_attention_heads = 16;
  int64_t decoder_attention_heads = 16;
  int64_t encoder_ffn_dim = 4096;
  int64_t decoder_ffn_dim = 4096;
  std::string activation_function = "gelu";
  ops::Activation activation = ops::Activation::gelu_erf;
  bool scale_embedding = false;
  bool share_encoder_decoder_embeddings = true;
  bool tie_word_embeddings = true;
  int64_t pad_token_id = 58100;
  int64_t eos_token_id = 0;
  int64_t decoder_start_token_id = 58100;
  // "int8" or "bfloat16" for a model written by `heed convert --quantize`
  // (config.json's heed_quantization.weights): its matrices are I8 tensors
  // with scales, or BF16 tensors.
  std::string quantized_weights;

  // Reads `path` (a config.json); throws ModelError naming the file and field.
  static MarianConfig load(const std::string &path);
  // The same from parsed JSON; `path` names the file in errors.
  static MarianConfig from_json(const nlohmann::json &json, const std::string &path);

  int64_t parameter_count() const;
};

} // namespace heed
