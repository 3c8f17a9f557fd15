// Parameters of one search, resolved from the model's generation config and
// the user's options, and the hypotheses a search returns.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "heed/model/generation_config.h"

namespace heed {

struct SearchOptions {
  int64_t num_beams = 1;
  int64_t n_best = 1;
  double length_penalty = 1.0;
  EarlyStopping early_stopping = EarlyStopping::heuristic;
  int64_t max_length = 20; // decoder length limit, start token included
  int64_t min_length = 0;  // likewise
  int64_t decoder_start_token_id = 0;
  int64_t eos_token_id = 0;
  int64_t pad_token_id = 0;
  std::optional<int64_t> forced_eos_token_id;
  std::vector<std::vector<int64_t>> bad_words_ids; // pad is always banned as well
  bool renormalize_logits = false;
};

struct Hypothesis {
  std::vector<int64_t> tokens; // generated ids after the start token, EOS included if produced
  float score = 0;             // beam: length-normalised sum of log-probs; greedy: the sum
  float log_prob = 0;          // the sum of the tokens' log-probs, not normalised
  // For each token, the decoder-state row whose step produced it (rows are
  // renumbered at every step as beams reorder and sentences leave): the key to
  // that token's attention weights.
  std::vector<int64_t> rows;
  // False when the search has no meaningful result for this slot: the model
  // produced non-finite log-probabilities for the sentence (`non_finite`), or
  // no hypothesis could be completed (every continuation was banned). tokens
  // and score are then meaningless and must not be shown as a result.
  bool valid = true;
  bool non_finite = false;
};

} // namespace heed
