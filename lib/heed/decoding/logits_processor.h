// The logits processors transformers' generate() applies for Marian models, in
// its order (generation/utils.py, _get_logits_processor), on the scores of one
// hypothesis: repetition penalty, no-repeat n-gram, banned words
// (bad_words_ids, and the pad token, which is never generated), minimum
// length (min_length, and min_new_tokens, which resolve_search_options turns
// into min_length as transformers' _prepare_generated_length does), EOS forced
// at the length limit, optional renormalisation. The sampling warpers come
// after them (decoding/token_sampler.h).
#pragma once

#include <cstdint>
#include <vector>

#include "heed/core/finite.h"

#include "heed/decoding/search_options.h"

namespace heed {

class LogitsProcessor {
public:
  LogitsProcessor(const SearchOptions &options, int64_t vocab_size);

  // `scores` [vocab] for a hypothesis whose decoder input so far is `history`
  // (start token included, so its size is HF's cur_len), whose length limit
  // is `max_length` (for the forced EOS) and whose target prefix is `prefix`
  // (null: none; SearchOptions::sentence_prefix): while the history is within
  // the prefix, only the prefix's next token keeps its score (after the other
  // processors, before the EOS forced at the limit, which wins). With
  // `repetition_penalty` false the repetition penalty is left out (the caller
  // applied it already, see penalize_repetitions).
  void apply(float *scores, const std::vector<int64_t> &history, int64_t max_length,
             const std::vector<int64_t> *prefix, bool repetition_penalty = true) const;

  // The repetition penalty alone. transformers' beam search runs every
  // processor on log-probabilities, its greedy search and sampling on the raw
  // logits; the penalty is the one processor that tells them apart (the others
  // write -inf, or shift every score alike), so greedy search and sampling
  // apply it to the raw logits before the log-softmax and the rest after.
  void penalize_repetitions(float *scores, const std::vector<int64_t> &history) const;
  bool penalizes_repetitions() const { return options_.repetition_penalty != 1.0; }

private:
  void ban_repeated_ngrams(float *scores, const std::vector<int64_t> &history) const;

  const SearchOptions &options_;
  int64_t vocab_size_;
  std::vector<int64_t> banned_tokens_;                 // single-token bad words and pad
  std::vector<std::vector<int64_t>> banned_sequences_; // multi-token bad words
};

// The searches check each row of log-probabilities with all_finite
// (core/finite.h) before any processor has run: finite weights and inputs give
// finite log-probabilities, so a row with a NaN or an infinity means the model
// overflowed and the hypothesis has no meaningful score (the search then drops
// it, see Hypothesis::valid).

// In-place log_softmax of one row (for renormalisation).
void log_softmax_row(float *x, int64_t n);

} // namespace heed
