#include "heed/decoding/logits_processor.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace heed {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
}

LogitsProcessor::LogitsProcessor(const SearchOptions &options, int64_t vocab_size)
    : options_(options), vocab_size_(vocab_size) {
  banned_tokens_.push_back(options.pad_token_id);
  for (const auto &words : options.bad_words_ids) {
    if (words.size() == 1)
      banned_tokens_.push_back(words[0]);
    else if (!words.empty())
      banned_sequences_.push_back(words);
  }
}

void LogitsProcessor::apply(float *scores, const std::vector<int64_t> &history, int64_t max_length,
                            const std::vector<int64_t> *prefix, bool repetition_penalty) const {
  const int64_t cur_len = static_cast<int64_t>(history.size());
  if (repetition_penalty)
    penalize_repetitions(scores, history);
  if (options_.no_repeat_ngram_size > 0)
    ban_repeated_ngrams(scores, history);
  for (int64_t id : banned_tokens_)
    if (id >= 0 && id < vocab_size_)
      scores[id] = kNegInf;
  for (const auto &words : banned_sequences_) {
    // Ban the last word of a sequence whose prefix ends the history.
    const size_t prefix = words.size() - 1;
    if (history.size() >= prefix &&
        std::equal(words.begin(), words.end() - 1, history.end() - prefix) && words.back() >= 0 &&
        words.back() < vocab_size_)
      scores[words.back()] = kNegInf;
  }
  if (cur_len < options_.min_length && options_.eos_token_id < vocab_size_)
    scores[options_.eos_token_id] = kNegInf;
  // A target prefix: its next token is the only one left, with its score.
  if (prefix && cur_len - 1 < static_cast<int64_t>(prefix->size())) {
    const int64_t forced = (*prefix)[static_cast<size_t>(cur_len - 1)];
    const float kept = forced >= 0 && forced < vocab_size_ ? scores[forced] : kNegInf;
    std::fill(scores, scores + vocab_size_, kNegInf);
    if (forced >= 0 && forced < vocab_size_)
      scores[forced] = kept;
  }
  if (options_.forced_eos_token_id && cur_len == max_length - 1) {
    std::fill(scores, scores + vocab_size_, kNegInf);
    scores[*options_.forced_eos_token_id] = 0.f;
  }
  if (options_.renormalize_logits)
    log_softmax_row(scores, vocab_size_);
}

void LogitsProcessor::penalize_repetitions(float *scores,
                                           const std::vector<int64_t> &history) const {
  if (options_.repetition_penalty == 1.0)
    return;
  // transformers gathers the scores of the history's tokens, then scatters the
  // penalised values back: a token seen twice is penalised once. (Quadratic in
  // the history, which is short, and free of allocation.)
  const float penalty = static_cast<float>(options_.repetition_penalty);
  for (auto it = history.begin(); it != history.end(); ++it) {
    const int64_t id = *it;
    if (id < 0 || id >= vocab_size_ || std::find(history.begin(), it, id) != it)
      continue;
    float &score = scores[id];
    score = score < 0 ? score * penalty : score / penalty;
  }
}

void LogitsProcessor::ban_repeated_ngrams(float *scores,
                                          const std::vector<int64_t> &history) const {
  // transformers' _get_ngrams / _get_generated_ngrams: every n-gram of the
  // history whose first n-1 tokens equal the history's last n-1 bans its last
  // token (with n = 1, every token of the history).
  const size_t n = static_cast<size_t>(options_.no_repeat_ngram_size);
  const size_t length = history.size();
  if (length + 1 < n)
    return;
  const auto suffix = history.end() - static_cast<std::ptrdiff_t>(n - 1);
  for (size_t i = 0; i + n <= length; ++i) {
    const auto start = history.begin() + static_cast<std::ptrdiff_t>(i);
    if (std::equal(start, start + static_cast<std::ptrdiff_t>(n - 1), suffix)) {
      const int64_t id = history[i + n - 1];
      if (id >= 0 && id < vocab_size_)
        scores[id] = kNegInf;
    }
  }
}

void log_softmax_row(float *x, int64_t n) {
  float max = kNegInf;
  for (int64_t i = 0; i < n; ++i)
    max = std::max(max, x[i]);
  if (max == kNegInf)
    return;
  double sum = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += std::exp(static_cast<double>(x[i] - max));
  const float lse = max + static_cast<float>(std::log(sum));
  for (int64_t i = 0; i < n; ++i)
    x[i] -= lse;
}

} // namespace heed
