// Decoding defaults of a model, with the semantics of transformers'
// GenerationConfig: read from generation_config.json when the model has one,
// else from the generation fields of config.json, else transformers' defaults.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "heed/model/early_stopping.h"
#include "heed/model/generation_limits.h"

namespace heed {

struct GenerationConfig {
  // Bounds of the values accepted (generation_limits.h).
  static constexpr int64_t kMaxLength = GenerationLimits::kMaxLength;
  static constexpr int64_t kMaxBeams = GenerationLimits::kMaxBeams;
  static constexpr double kMaxLengthPenalty = GenerationLimits::kMaxLengthPenalty;

  int64_t max_length = 20; // counts the decoder start token
  std::optional<int64_t> max_new_tokens;
  int64_t min_length = 0;
  int64_t num_beams = 1;
  double length_penalty = 1.0;
  EarlyStopping early_stopping = EarlyStopping::heuristic;
  int64_t num_return_sequences = 1;
  std::vector<std::vector<int64_t>> bad_words_ids;
  std::optional<int64_t> forced_eos_token_id;
  bool renormalize_logits = false;
  std::optional<int64_t> min_new_tokens;
  double repetition_penalty = 1.0;
  int64_t no_repeat_ngram_size = 0;
  // Sampling and its warpers, transformers' defaults (top_k 50).
  bool do_sample = false;
  double temperature = 1.0;
  int64_t top_k = 50;
  double top_p = 1.0;
  // Special ids the generation config overrides (else config.json's apply).
  std::optional<int64_t> decoder_start_token_id;
  std::optional<int64_t> eos_token_id;
  std::optional<int64_t> pad_token_id;
  std::string source; // the file the values came from, for `heed info`
  // Settings of the file that would change transformers' generate() output
  // and that heed does not implement, as "FIELD (VALUE)": diversity_penalty,
  // suppress_tokens, force_words_ids, ...
  // Fields left at transformers' defaults (no effect there) are not listed.
  // `heed translate` and `heed attention` warn about each (jobs/translate_job.h).
  std::vector<std::string> unsupported;

  // generation_config.json if present in `model_dir`, else config.json.
  static GenerationConfig load(const std::string &model_dir);
  // Reads the generation fields of one JSON file (either kind).
  static GenerationConfig from_file(const std::string &path);
  // The same from parsed JSON; `path` names the file in errors.
  static GenerationConfig from_json(const nlohmann::json &json, const std::string &path);

  // Total decoder length limit (start token included) for this configuration.
  int64_t effective_max_length() const { return max_new_tokens ? *max_new_tokens + 1 : max_length; }
};

} // namespace heed
