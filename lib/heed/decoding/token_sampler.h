// Sampling (transformers' do_sample with num_beams 1, generation/utils.py
// _sample): after the logits processors, the warpers of
// generation/logits_process.py in transformers' order (TemperatureLogitsWarper,
// TopKLogitsWarper, TopPLogitsWarper), then one draw from the softmax.
//
// Reproducibility: each sentence draws from its own generator, seeded from the
// run's seed, the 1-based number of its input line and its index among the
// line's sentences (sentence_seed). What a sentence samples therefore depends
// on nothing else: not on the batch it shares, the window, the thread or worker
// count, the shard or the point a run resumed from. (torch.multinomial's
// draws cannot be reproduced outside torch: heed's outputs match transformers'
// in distribution, not draw for draw.)
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "heed/decoding/search_options.h"

namespace heed {

// std::mt19937_64's sequence is fixed by the C++ standard, so draws are the
// same with every standard library.
using SentenceGenerator = std::mt19937_64;

// The seed of the generator of sentence `sentence` (0 for a line translated
// whole) of input line `line_number` (1-based) in a run seeded with `seed`.
uint64_t sentence_seed(uint64_t seed, int64_t line_number, int64_t sentence);

class TokenSampler {
public:
  TokenSampler(const SearchOptions &options, int64_t vocab_size);

  // Warps `scores` [vocab] (log-probabilities after the logits processors) in
  // place: temperature, top-k, top-p; removed tokens get -inf. Exposed for the
  // tests; sample() calls it.
  void warp(float *scores);
  // Warps `scores` and draws one token from their softmax with `generator`.
  // At least one token must have a finite score (the search checks).
  int64_t sample(float *scores, SentenceGenerator &generator);

private:
  const SearchOptions &options_;
  int64_t vocab_size_;
  std::vector<float> values_;   // scratch of top-k
  std::vector<int64_t> order_;  // scratch of top-p: finite tokens, ascending
  std::vector<double> weights_; // scratch of top-p and of the draw
};

} // namespace heed
