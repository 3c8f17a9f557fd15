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
  advance(tokens, ws, observer);
  score(0, members_.front().state->entries(), log_probs, before_softmax);
}

void StepScorer::advance(const int64_t *tokens, Workspace &ws, DecoderObserver *observer) {
  hidden_.resize(members_.size());
  for (size_t i = 0; i < members_.size(); ++i) {
    const ScorerMember &m = members_[i];
    Tensor &hidden = hidden_[i];
    hidden.reserve(m.state->entries() * m.decoder->d_model());
    m.decoder->advance(*m.state, tokens, hidden.data(), ws, i == 0 ? observer : nullptr);
  }
}

void StepScorer::score(int64_t first, int64_t rows, float *log_probs,
                       const RawLogitsHook &before_softmax) {
  if (first < 0 || rows < 0 || first + rows > members_.front().state->entries() ||
      hidden_.size() != members_.size())
    throw std::logic_error("StepScorer::score: rows outside the step advance() ran");
  const int64_t n = rows * vocab_;
  // The first member writes straight into the caller's buffer.
  const ScorerMember &head = members_.front();
  head.decoder->project(hidden_[0].data() + first * head.decoder->d_model(), rows, log_probs);
  if (before_softmax)
    before_softmax(log_probs, first, rows);
  ops::log_softmax(log_probs, rows, vocab_);
  if (head.weight != 1.f)
    for (int64_t k = 0; k < n; ++k)
      log_probs[k] *= head.weight;
  if (members_.size() == 1)
    return;
  scratch_.reserve(n);
  float *other = scratch_.data();
  for (size_t i = 1; i < members_.size(); ++i) {
    const ScorerMember &m = members_[i];
    m.decoder->project(hidden_[i].data() + first * m.decoder->d_model(), rows, other);
    if (before_softmax)
      before_softmax(other, first, rows);
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
