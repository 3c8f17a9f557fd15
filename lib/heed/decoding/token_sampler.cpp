#include "heed/decoding/token_sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace heed {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// SplitMix64's finaliser (Steele, Lea, Flood 2014): consecutive inputs give
// unrelated outputs, so neighbouring lines do not get related generators.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A uniform double in [0, 1) from the top 53 bits of one draw (the standard
// fixes the generator's output, not uniform_real_distribution's algorithm).
double uniform(SentenceGenerator &generator) {
  return static_cast<double>(generator() >> 11) * 0x1.0p-53;
}

} // namespace

uint64_t sentence_seed(uint64_t seed, int64_t line_number, int64_t sentence) {
  return mix(mix(mix(seed) ^ static_cast<uint64_t>(line_number)) ^ static_cast<uint64_t>(sentence));
}

TokenSampler::TokenSampler(const SearchOptions &options, int64_t vocab_size)
    : options_(options), vocab_size_(vocab_size) {}

void TokenSampler::warp(float *scores) {
  const int64_t n = vocab_size_;
  // TemperatureLogitsWarper: scores / temperature (on log-probabilities this
  // gives the softmax of logits / temperature: the two differ by a constant).
  if (options_.temperature != 1.0) {
    const float t = static_cast<float>(options_.temperature);
    for (int64_t i = 0; i < n; ++i)
      scores[i] = scores[i] / t;
  }
  // TopKLogitsWarper: removes every score below the k-th largest (ties with
  // it stay, as `scores < topk(...)[..., -1]` keeps them).
  if (options_.top_k > 0 && options_.top_k < n) {
    values_.assign(scores, scores + n);
    const auto kth = values_.begin() + (options_.top_k - 1);
    std::nth_element(values_.begin(), kth, values_.end(), std::greater<float>());
    const float threshold = *kth;
    for (int64_t i = 0; i < n; ++i)
      if (scores[i] < threshold)
        scores[i] = kNegInf;
  }
  // TopPLogitsWarper: sorted ascending, the tokens whose cumulative
  // probability is at most 1 - top_p are removed, the most likely always
  // kept: what stays is the smallest set of most likely tokens whose mass
  // reaches top_p.
  if (options_.top_p < 1.0) {
    order_.clear();
    float max = kNegInf;
    for (int64_t i = 0; i < n; ++i)
      if (scores[i] != kNegInf) {
        order_.push_back(i);
        max = std::max(max, scores[i]);
      }
    std::stable_sort(order_.begin(), order_.end(),
                     [scores](int64_t a, int64_t b) { return scores[a] < scores[b]; });
    weights_.resize(order_.size());
    double total = 0;
    for (size_t j = 0; j < order_.size(); ++j)
      total += weights_[j] = std::exp(static_cast<double>(scores[order_[j]] - max));
    const double removable = 1.0 - options_.top_p;
    double cumulative = 0;
    for (size_t j = 0; j + 1 < order_.size(); ++j) {
      cumulative += weights_[j] / total;
      if (cumulative > removable)
        break;
      scores[order_[j]] = kNegInf;
    }
  }
}

int64_t TokenSampler::sample(float *scores, SentenceGenerator &generator) {
  warp(scores);
  const int64_t n = vocab_size_;
  const float max = *std::max_element(scores, scores + n);
  weights_.resize(static_cast<size_t>(n));
  double total = 0;
  for (int64_t i = 0; i < n; ++i)
    total += weights_[i] =
        scores[i] == kNegInf ? 0.0 : std::exp(static_cast<double>(scores[i] - max));
  // Inverse transform in token order: the first token whose cumulative
  // weight passes the draw.
  const double target = uniform(generator) * total;
  double cumulative = 0;
  int64_t last = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (weights_[i] == 0.0)
      continue;
    cumulative += weights_[i];
    last = i;
    if (cumulative > target)
      return i;
  }
  return last; // rounding left the draw past the total: the last possible token
}

} // namespace heed
