// The logits processors transformers' generate() applies for Marian models, in
// its order, on log-probabilities of one hypothesis: minimum length, banned
// words (bad_words_ids, and the pad token, which is never generated), EOS forced
// at the length limit, optional renormalisation.
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
  // (start token included, so its size is HF's cur_len).
  void apply(float *scores, const std::vector<int64_t> &history) const;

private:
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
