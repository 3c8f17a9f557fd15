#include "heed/outputs/model_info.h"

#include <sstream>

#include "heed/ops/cpu_isa.h"

namespace heed {

nlohmann::json model_info(const MarianModel &m) {
  const MarianConfig &c = m.config;
  const GenerationConfig &g = m.generation;
  nlohmann::json j;
  j["directory"] = m.directory;
  // Which layout was read (model/checkpoint.h), from which file.
  j["format"] = checkpoint_format_name(m.format);
  j["architecture"] = {
      {"d_model", c.d_model},
      {"encoder_layers", c.encoder_layers},
      {"decoder_layers", c.decoder_layers},
      {"encoder_attention_heads", c.encoder_attention_heads},
      {"decoder_attention_heads", c.decoder_attention_heads},
      {"encoder_ffn_dim", c.encoder_ffn_dim},
      {"decoder_ffn_dim", c.decoder_ffn_dim},
      {"activation_function", c.activation_function},
      {"scale_embedding", c.scale_embedding},
      {"max_position_embeddings", c.max_position_embeddings},
      {"share_encoder_decoder_embeddings", c.share_encoder_decoder_embeddings},
      {"tie_word_embeddings", c.tie_word_embeddings},
  };
  // Whose sentence rules --split-sentences (and over-long lines) use by default.
  j["source_language"] = m.source_language ? nlohmann::json{{"code", m.source_language->code},
                                                            {"from", m.source_language->origin}}
                                           : nlohmann::json(nullptr);
  j["parameters"] = m.parameter_count;
  j["vocab"] = {{"source_size", c.vocab_size},
                {"target_size", c.decoder_vocab_size},
                {"source_entries", m.tokenizer->source_vocab().entries()},
                {"target_entries", m.tokenizer->target_vocab().entries()},
                {"separate_vocabs", m.tokenizer->separate_vocabs()}};
  // A multilingual model's --target-language codes (">>CODE<<" entries).
  j["target_languages"] = m.tokenizer->target_languages();
  if (m.alignment_layer)
    j["guided_alignment_layer"] = *m.alignment_layer;
  j["special_tokens"] = {{"pad", c.pad_token_id},
                         {"eos", c.eos_token_id},
                         {"decoder_start", c.decoder_start_token_id}};
  j["weights"] = {{"file", m.weights_path},
                  {"dtype", m.weights_dtype},
                  {"file_bytes", m.weights_file_bytes},
                  {"compute_type", ops::compute_type_name(m.compute_type)},
                  {"packed_bytes", m.packed_weight_bytes}};
  nlohmann::json gen = {{"source", g.source},
                        {"num_beams", g.num_beams},
                        {"max_length", g.max_length},
                        {"length_penalty", g.length_penalty},
                        {"early_stopping", early_stopping_name(g.early_stopping)},
                        {"bad_words_ids", g.bad_words_ids}};
  if (g.max_new_tokens)
    gen["max_new_tokens"] = *g.max_new_tokens;
  if (g.forced_eos_token_id)
    gen["forced_eos_token_id"] = *g.forced_eos_token_id;
  // The processors and sampling, when the config sets them.
  if (g.min_length > 0)
    gen["min_length"] = g.min_length;
  if (g.min_new_tokens)
    gen["min_new_tokens"] = *g.min_new_tokens;
  if (g.repetition_penalty != 1.0)
    gen["repetition_penalty"] = g.repetition_penalty;
  if (g.no_repeat_ngram_size > 0)
    gen["no_repeat_ngram_size"] = g.no_repeat_ngram_size;
  if (g.do_sample)
    gen["sampling"] = {{"do_sample", true},
                       {"temperature", g.temperature},
                       {"top_k", g.top_k},
                       {"top_p", g.top_p}};
  if (!g.unsupported.empty())
    gen["not_implemented"] = g.unsupported; // set, but heed ignores them
  j["generation"] = gen;
  j["load_seconds"] = m.load_seconds;
  // What this processor gives each compute type (oneDNN's effective
  // instruction set honours ONEDNN_MAX_CPU_ISA).
  const ops::Int8Kernels &int8 = ops::int8_kernels();
  j["processor"] = {{"onednn_isa", ops::cpu_isa_name()},
                    {"int8_kernels", int8.description},
                    {"int8_weight_bits", int8.weight_levels == 127 ? 8 : 7},
                    {"bfloat16", ops::bfloat16_kernels_description()}};
  return j;
}

namespace {

void flatten(const nlohmann::json &j, const std::string &prefix, std::ostringstream &out) {
  for (auto &[key, value] : j.items()) {
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    if (value.is_object())
      flatten(value, name, out);
    else
      out << name << ": " << (value.is_string() ? value.get<std::string>() : value.dump()) << '\n';
  }
}

} // namespace

std::string format_model_info(const nlohmann::json &info) {
  std::ostringstream out;
  flatten(info, "", out);
  return out.str();
}

} // namespace heed
