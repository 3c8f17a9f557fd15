#include "heed/model/config.h"

#include "heed/core/error.h"
#include "heed/io/json_fields.h"

#include <nlohmann/json.hpp>

namespace heed {
namespace {

// Bounds that refuse absurd claims before anything is allocated. Every size but
// max_position_embeddings is then checked against the tensors of the file; the
// sinusoidal position tables (positions x d_model floats each) are built from
// config.json alone, hence the tighter bound (Marian models use 512 or 1024).
constexpr int64_t kMaxVocab = 10'000'000;
constexpr int64_t kMaxDim = 65'536;
constexpr int64_t kMaxLayers = 1'024;
constexpr int64_t kMaxPositions = 65'536;

ops::Activation parse_activation(const io::JsonFields &f, const std::string &name) {
  // Names as in transformers' ACT2FN.
  if (name == "swish" || name == "silu")
    return ops::Activation::swish;
  if (name == "relu")
    return ops::Activation::relu;
  if (name == "gelu")
    return ops::Activation::gelu_erf;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast")
    return ops::Activation::gelu_tanh;
  f.fail("activation_function",
         "has unsupported value \"" + name + "\" (supported: swish, silu, relu, gelu, gelu_new)");
}

} // namespace

MarianConfig MarianConfig::load(const std::string &path) {
  return from_json(io::read_json_file(path), path);
}

MarianConfig MarianConfig::from_json(const nlohmann::json &json, const std::string &path) {
  io::JsonFields f(json, path);
  MarianConfig c;
  if (f.has("model_type") && f.string("model_type", "") != "marian")
    f.fail("model_type", "is \"" + f.string("model_type", "") +
                             "\": heed runs Marian models (model_type \"marian\")");
  if (f.has("is_encoder_decoder") && !f.boolean("is_encoder_decoder", true))
    f.fail("is_encoder_decoder", "is false: a Marian model is an encoder-decoder");
  // Legacy Marian fields that HF's implementation does not honour: refuse a model
  // that would need them rather than translate it wrongly.
  if (f.boolean("normalize_before", false))
    f.fail("normalize_before", "is true: pre-norm Marian models are not supported");
  if (f.boolean("normalize_embedding", false))
    f.fail("normalize_embedding", "is true: embedding layer norm is not supported");
  if (!f.boolean("static_position_embeddings", true))
    f.fail("static_position_embeddings", "is false: learned positions are not supported");

  c.vocab_size = f.integer("vocab_size", c.vocab_size, 1, kMaxVocab);
  c.decoder_vocab_size = f.integer("decoder_vocab_size", c.vocab_size, 1, kMaxVocab);
  c.max_position_embeddings =
      f.integer("max_position_embeddings", c.max_position_embeddings, 1, kMaxPositions);
  c.d_model = f.integer("d_model", c.d_model, 1, kMaxDim);
  c.encoder_layers = f.integer("encoder_layers", c.encoder_layers, 1, kMaxLayers);
  c.decoder_layers = f.integer("decoder_layers", c.decoder_layers, 1, kMaxLayers);
  c.encoder_attention_heads =
      f.integer("encoder_attention_heads", c.encoder_attention_heads, 1, kMaxDim);
  c.decoder_attention_heads =
      f.integer("decoder_attention_heads", c.decoder_attention_heads, 1, kMaxDim);
  c.encoder_ffn_dim = f.integer("encoder_ffn_dim", c.encoder_ffn_dim, 1, 16 * kMaxDim);
  c.decoder_ffn_dim = f.integer("decoder_ffn_dim", c.decoder_ffn_dim, 1, 16 * kMaxDim);
  c.activation_function = f.string("activation_function", c.activation_function);
  c.activation = parse_activation(f, c.activation_function);
  c.scale_embedding = f.boolean("scale_embedding", c.scale_embedding);
  c.share_encoder_decoder_embeddings =
      f.boolean("share_encoder_decoder_embeddings", c.share_encoder_decoder_embeddings);
  c.tie_word_embeddings = f.boolean("tie_word_embeddings", c.tie_word_embeddings);
  c.pad_token_id = f.integer("pad_token_id", c.pad_token_id, 0, kMaxVocab);
  c.eos_token_id = f.integer("eos_token_id", c.eos_token_id, 0, kMaxVocab);
  c.decoder_start_token_id = f.integer("decoder_start_token_id", c.pad_token_id, 0, kMaxVocab);
  if (f.has("heed_quantization")) {
    const nlohmann::json &q = f.raw("heed_quantization");
    if (!q.is_object() || !q.contains("weights") ||
        (q["weights"] != "int8" && q["weights"] != "bfloat16"))
      f.fail("heed_quantization", "must be an object with \"weights\": \"int8\" or "
                                  "\"bfloat16\" (written by heed convert --quantize)");
    c.quantized_weights = q["weights"].get<std::string>();
  }

  if (c.d_model % c.encoder_attention_heads != 0)
    f.fail("encoder_attention_heads", "(" + std::to_string(c.encoder_attention_heads) +
                                          ") does not divide d_model (" +
                                          std::to_string(c.d_model) + ")");
  if (c.d_model % c.decoder_attention_heads != 0)
    f.fail("decoder_attention_heads", "(" + std::to_string(c.decoder_attention_heads) +
                                          ") does not divide d_model (" +
                                          std::to_string(c.d_model) + ")");
  if (c.share_encoder_decoder_embeddings && c.decoder_vocab_size != c.vocab_size)
    f.fail("decoder_vocab_size", "(" + std::to_string(c.decoder_vocab_size) +
                                     ") differs from vocab_size (" + std::to_string(c.vocab_size) +
                                     ") although share_encoder_decoder_embeddings is true");
  if (c.pad_token_id >= c.vocab_size)
    f.fail("pad_token_id", "(" + std::to_string(c.pad_token_id) +
                               ") is outside the source vocabulary of " +
                               std::to_string(c.vocab_size));
  for (auto [key, id] : {std::pair{"eos_token_id", c.eos_token_id},
                         std::pair{"decoder_start_token_id", c.decoder_start_token_id}})
    if (id >= c.decoder_vocab_size)
      f.fail(key, "(" + std::to_string(id) + ") is outside the target vocabulary of " +
                      std::to_string(c.decoder_vocab_size));
  return c;
}

int64_t MarianConfig::parameter_count() const {
  const int64_t d = d_model;
  const int64_t attention = 4 * (d * d + d);
  const int64_t norm = 2 * d;
  const int64_t enc_layer =
      attention + norm + d * encoder_ffn_dim + encoder_ffn_dim + encoder_ffn_dim * d + d + norm;
  const int64_t dec_layer = 2 * (attention + norm) + d * decoder_ffn_dim + decoder_ffn_dim +
                            decoder_ffn_dim * d + d + norm;
  int64_t embeddings = vocab_size * d;
  if (!share_encoder_decoder_embeddings)
    embeddings += decoder_vocab_size * d;
  if (!tie_word_embeddings)
    embeddings += decoder_vocab_size * d;
  return embeddings + encoder_layers * enc_layer + decoder_layers * dec_layer +
         decoder_vocab_size; // final_logits_bias
}

} // namespace heed
