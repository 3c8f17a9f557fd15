#include "heed/decoding/step_scorer.h"

#include <stdexcept>

#include "heed/ops/softmax.h"

namespace heed {

StepScorer::StepScorer(const Decoder &decoder, DecoderState &state)
    : StepScorer(std::vector<ScorerMember>{{&decoder, &state, 1.f}}) {}

StepScorer::StepScorer(std::vector<ScorerMember> members) : members_(std::move(members)) {
  if (members_.empty())
    throw std::invalid_argument("StepScorer: no member");
  vocab_ = members_.front().decoder->vocab_size();
  for (const ScorerMember &m : members_)
    if (m.decoder == nullptr || m.state == nullptr || m.decoder->vocab_size() != vocab_)
      throw std::invalid_argument("StepScorer: members need a decoder, a state and one target "
                                  "vocabulary size");
}

void StepScorer::step(const int64_t *tokens, float *log_probs, Workspace &ws,
                      DecoderObserver *observer, const RawLogitsHook &before_softmax) {
  const int64_t rows = members_.front().state->entries();
  const int64_t n = rows * vocab_;
  // The first member writes straight into the caller's buffer.
  const ScorerMember &first = members_.front();
  first.decoder->step(*first.state, tokens, log_probs, ws, observer);
  if (before_softmax)
    before_softmax(log_probs, rows);
  ops::log_softmax(log_probs, rows, vocab_);
  if (first.weight != 1.f)
    for (int64_t k = 0; k < n; ++k)
      log_probs[k] *= first.weight;
  if (members_.size() == 1)
    return;
  scratch_.reserve(n);
  float *other = scratch_.data();
  for (size_t i = 1; i < members_.size(); ++i) {
    const ScorerMember &m = members_[i];
    m.decoder->step(*m.state, tokens, other, ws);
    if (before_softmax)
      before_softmax(other, rows);
    ops::log_softmax(other, rows, vocab_);
    const float w = m.weight;
    for (int64_t k = 0; k < n; ++k)
      log_probs[k] += w * other[k];
  }
}

void StepScorer::select(const std::vector<int64_t> &sentence_source,
                        const std::vector<int64_t> &entry_source) {
  for (ScorerMember &m : members_)
    m.state->select(sentence_source, entry_source);
}

} // namespace heed
