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
  // Per sentence of the batch, a lower limit of its own (max_length_ratio x
  // its source length); empty: max_length for every sentence.
  std::vector<int64_t> sentence_max_length;
  int64_t max_length_of(int64_t sentence) const {
    return sentence_max_length.empty() ? max_length
                                       : sentence_max_length[static_cast<size_t>(sentence)];
  }
  // Per sentence of the batch, target tokens forced after the start token (a
  // target prefix, no EOS): each is the only token the search may take at its
  // step, with its log-prob counted in the score; the search continues from
  // there. Empty: no sentence has one.
  std::vector<std::vector<int64_t>> sentence_prefix;
  const std::vector<int64_t> *prefix_of(int64_t sentence) const {
    return sentence_prefix.empty() ? nullptr : &sentence_prefix[static_cast<size_t>(sentence)];
  }
  int64_t min_length = 0; // likewise
  int64_t decoder_start_token_id = 0;
  int64_t eos_token_id = 0;
  int64_t pad_token_id = 0;
  std::optional<int64_t> forced_eos_token_id;
  std::vector<std::vector<int64_t>> bad_words_ids; // pad is always banned as well
  bool renormalize_logits = false;
  // transformers' RepetitionPenaltyLogitsProcessor (CTRL, Keskar et al. 2019):
  // the score of every token already in the decoder input (start token
  // included) is divided by the penalty when positive, multiplied when
  // negative. 1 = off; > 0.
  double repetition_penalty = 1.0;
  // transformers' NoRepeatNGramLogitsProcessor: no n-gram of this size occurs
  // twice in the decoder input (start token included). 0 = off.
  int64_t no_repeat_ngram_size = 0;
  // Sampling (transformers' do_sample with num_beams 1): after the processors,
  // the warpers temperature -> top-k -> top-p, then one draw from the softmax
  // (decoding/token_sampler.h). Only with num_beams 1.
  bool do_sample = false;
  double temperature = 1.0; // > 0
  int64_t top_k = 50;       // 0 = off (transformers' default is 50)
  double top_p = 1.0;       // in (0, 1]; 1 = off
  uint64_t seed = 0;        // with the input's line number, seeds each sentence's draws
};

struct Hypothesis {
  std::vector<int64_t> tokens; // generated ids after the start token, EOS included if produced
  float score = 0;             // beam: length-normalised sum of log-probs; greedy: the sum
  float log_prob = 0;          // the sum of the tokens' log-probs, not normalised
  // Each token's log-prob after the processors: its term of log_prob.
  std::vector<float> token_scores;
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
  // The hypothesis reached its sentence's length limit (max_length_of): it
  // may be cut, its last token an EOS forced there.
  bool truncated = false;
};

} // namespace heed
