// What translating one sentence gives: its hypotheses, best first, with their
// texts, token ids, scores and, when asked for, attention weights. Part of
// heed's public interface (heed/heed.h): standard library types only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "heed/decoding/attention_maps.h"

namespace heed {

struct TranslationHypothesis {
  std::string text;
  std::vector<int64_t> tokens; // generated ids, EOS included when produced
  // With beam search, the length-normalised sum of the token log-probabilities
  // (transformers' sequences_scores); with greedy search, the plain sum.
  float score = 0;
  // The plain sum of the tokens' log-probabilities, never length-normalised
  // (Marian's n-best F0= field).
  float log_prob = 0;
  std::optional<AttentionMaps> attention; // when TranslationOptions::attention asks
  // Empty for a result; else why the search has none (the model produced
  // non-finite scores, or every continuation was banned): text and tokens are
  // then empty and score is -inf, and writers show no score (never a
  // placeholder).
  std::string error;
  bool valid() const { return error.empty(); }
};

struct Translation {
  // The source's ids as the encoder saw them (EOS included, cropped to the
  // model's maximum positions); empty for a blank source.
  std::vector<int64_t> source_ids;
  // n_best hypotheses, best first; for a blank source, n_best empty ones.
  std::vector<TranslationHypothesis> hypotheses;
};

} // namespace heed
