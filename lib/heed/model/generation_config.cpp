#include "heed/model/generation_config.h"

#include <cmath>
#include <filesystem>

#include "heed/io/json_fields.h"
#include "heed/io/regular_file.h"

namespace heed {
namespace {

// The GenerationConfig fields of transformers (generation/configuration_utils.py)
// that change what generate() returns and that heed does not implement, each
// with its default there: a file that sets one to another value asks for
// something heed would not do. Output-only fields (output_scores, ...) and
// those transformers itself ignores without sampling (temperature, top_k,
// typical_p, epsilon_cutoff, eta_cutoff, min_p: do_sample covers them) are
// not listed. do_sample with num_beams above 1 (beam sampling) is warned about
// by the jobs (heed samples with one beam).
struct UnsupportedField {
  const char *name;
  nlohmann::json no_effect; // the default, which changes nothing
};
const UnsupportedField kUnsupported[] = {
    {"penalty_alpha", nullptr},
    {"num_beam_groups", 1},
    {"diversity_penalty", 0.0},
    {"encoder_repetition_penalty", 1.0},
    {"encoder_no_repeat_ngram_size", 0},
    {"forced_bos_token_id", nullptr},
    {"force_words_ids", nullptr},
    {"constraints", nullptr},
    {"exponential_decay_length_penalty", nullptr},
    {"suppress_tokens", nullptr},
    {"begin_suppress_tokens", nullptr},
    {"sequence_bias", nullptr},
    {"guidance_scale", nullptr},
    {"watermarking_config", nullptr},
};

bool has_effect(const nlohmann::json &value, const nlohmann::json &no_effect) {
  if (value.is_null())
    return false;
  if (value.is_array() && value.empty())
    return false;
  if (value.is_number() && no_effect.is_number())
    return value.get<double>() != no_effect.get<double>();
  return value != no_effect;
}

} // namespace

const char *early_stopping_name(EarlyStopping e) {
  switch (e) {
  case EarlyStopping::heuristic:
    return "false";
  case EarlyStopping::always:
    return "true";
  case EarlyStopping::never:
    return "never";
  }
  return "?";
}

GenerationConfig GenerationConfig::from_file(const std::string &path) {
  return from_json(io::read_json_file(path), path);
}

GenerationConfig GenerationConfig::from_json(const nlohmann::json &json, const std::string &path) {
  io::JsonFields f(json, path);
  GenerationConfig g;
  g.source = path;
  g.max_length = f.integer("max_length", g.max_length, 1, kMaxLength);
  g.max_new_tokens = f.optional_integer("max_new_tokens", 0, kMaxLength);
  g.min_length = f.integer("min_length", g.min_length, 0, kMaxLength);
  g.num_beams = f.integer("num_beams", g.num_beams, 1, kMaxBeams);
  g.length_penalty = f.number("length_penalty", g.length_penalty);
  if (!(std::abs(g.length_penalty) <= kMaxLengthPenalty))
    f.fail("length_penalty", "must be in [-10, 10], got " + io::brief(f.raw("length_penalty")));
  g.num_return_sequences = f.integer("num_return_sequences", 1, 1, kMaxBeams);
  if (f.has("early_stopping")) {
    const auto &v = f.raw("early_stopping");
    if (v.is_boolean())
      g.early_stopping = v.get<bool>() ? EarlyStopping::always : EarlyStopping::heuristic;
    else if (v.is_string() && v.get<std::string>() == "never")
      g.early_stopping = EarlyStopping::never;
    else
      f.fail("early_stopping", "must be true, false or \"never\", got " + io::brief(v));
  }
  constexpr int64_t kMaxTokenId = 10'000'000; // as config.json's vocabulary bound
  g.bad_words_ids = f.integer_lists("bad_words_ids");
  // As transformers' NoBadWordsLogitsProcessor, which raises a ValueError for
  // an empty sequence or a negative id (out-of-range ids are checked against
  // the vocabulary in resolve_search_options).
  for (size_t i = 0; i < g.bad_words_ids.size(); ++i) {
    const auto &words = g.bad_words_ids[i];
    if (words.empty())
      f.fail("bad_words_ids", "has an empty sequence at position " + std::to_string(i) +
                                  " (each entry must list at least one token id)");
    for (int64_t id : words)
      if (id < 0)
        f.fail("bad_words_ids", "has the negative token id " + std::to_string(id) +
                                    " in sequence " + std::to_string(i));
  }
  g.forced_eos_token_id = f.optional_integer("forced_eos_token_id", 0, kMaxTokenId);
  g.renormalize_logits = f.boolean("renormalize_logits", false);
  g.decoder_start_token_id = f.optional_integer("decoder_start_token_id", 0, kMaxTokenId);
  g.pad_token_id = f.optional_integer("pad_token_id", 0, kMaxTokenId);
  if (f.has("eos_token_id")) {
    // transformers allows a list of EOS ids; Marian models have one. The one
    // element of a list gets the same checks as a plain id: it indexes the
    // logits.
    const auto &v = f.raw("eos_token_id");
    if (v.is_array() && v.size() != 1)
      f.fail("eos_token_id",
             v.empty() ? "is an empty list" : "lists several EOS tokens; heed supports one");
    const auto single = nlohmann::json::object({{"eos_token_id", v.is_array() ? v[0] : v}});
    g.eos_token_id = io::JsonFields(single, path).optional_integer("eos_token_id", 0, kMaxTokenId);
  }
  g.min_new_tokens = f.optional_integer("min_new_tokens", 0, kMaxLength);
  // Scores are divided by both: in (0, kMaxDivisor], as TranslationOptions.
  const auto divisor = [&f](const char *field) {
    const double x = f.number(field, 1.0);
    if (!(x > 0 && x <= GenerationLimits::kMaxDivisor))
      f.fail(field, "must be a number in (0, 1000], got " + io::brief(f.raw(field)));
    return x;
  };
  g.repetition_penalty = divisor("repetition_penalty");
  g.no_repeat_ngram_size = f.integer("no_repeat_ngram_size", 0, 0, kMaxLength);
  g.do_sample = f.boolean("do_sample", false);
  g.temperature = divisor("temperature");
  g.top_k = f.integer("top_k", 50, 0, GenerationLimits::kMaxTopK);
  g.top_p = f.number("top_p", 1.0);
  if (!(g.top_p > 0 && g.top_p <= 1))
    f.fail("top_p", "must be a number in (0, 1], got " + io::brief(f.raw("top_p")));
  for (const auto &field : kUnsupported)
    if (f.has(field.name) && has_effect(f.raw(field.name), field.no_effect))
      g.unsupported.push_back(std::string(field.name) + " (" + io::brief(f.raw(field.name)) + ")");
  return g;
}

GenerationConfig GenerationConfig::load(const std::string &model_dir) {
  namespace fs = std::filesystem;
  const fs::path generation = fs::path(model_dir) / "generation_config.json";
  if (io::model_path_kind(generation.string()) != io::PathKind::missing)
    return from_file(generation.string());
  return from_file((fs::path(model_dir) / "config.json").string());
}

} // namespace heed
