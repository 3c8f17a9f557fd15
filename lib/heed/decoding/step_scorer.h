// What the searches and teacher-forced scoring step through: the decoder of
// one model, or an ensemble of models decoded side by side (Marian's list of
// scorers). Each member holds its own decoder and state (its projected
// encoder memory and key/value caches); a step feeds the same tokens to every
// member and combines their next-token distributions as Marian's beam search
// does (src/translator/scorers.h, beam_search.cpp): the weighted sum of each
// member's log-softmax over the target vocabulary,
//
//   combined[t] = sum_i weight_i * log_softmax(logits_i)[t],
//
// weights 1 each by default and not divided by the member count (so two
// members at weight 1 give about twice a model's log-probabilities, and
// weights 0.5, 0.5 of a model with itself give that model's). The result is
// not renormalised: the searches' scores are sums of these combined values,
// as Marian's. The logits processors then act on the combined row where they
// act on a single model's log-softmax; the repetition penalty of greedy search
// and sampling, which transformers applies to the raw logits, is applied to
// each member's raw logits before its log-softmax (`before_softmax`).
//
// With one member of weight 1 a step is exactly the single-model step: the
// decoder writes into the caller's buffer and the log-softmax runs in place,
// with no copy.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "heed/core/tensor.h"
#include "heed/core/workspace.h"
#include "heed/model/decoder.h"

namespace heed {

struct ScorerMember {
  const Decoder *decoder = nullptr;
  DecoderState *state = nullptr; // started by the caller (Decoder::start) like the others
  float weight = 1.f;
};

class StepScorer {
public:
  // One model at weight 1.
  StepScorer(const Decoder &decoder, DecoderState &state);
  // std::invalid_argument unless `members` is non-empty with one target
  // vocabulary size (the caller checks that the vocabularies agree).
  explicit StepScorer(std::vector<ScorerMember> members);

  int64_t vocab_size() const { return vocab_; }
  // Sentences of the batch, as the members' states hold them.
  int64_t sentences() const { return members_.front().state->sentences; }
  size_t members() const { return members_.size(); }

  // Called on each member's raw logits [rows, vocab] before its log-softmax.
  using RawLogitsHook = std::function<void(float *logits, int64_t rows)>;

  // Feeds one token per entry to every member and writes the combined
  // log-probabilities [entries, vocab] into `log_probs`. `observer` sees the
  // first member's attention only.
  void step(const int64_t *tokens, float *log_probs, Workspace &ws,
            DecoderObserver *observer = nullptr, const RawLogitsHook &before_softmax = {});

  // DecoderState::select on every member's state.
  void select(const std::vector<int64_t> &sentence_source,
              const std::vector<int64_t> &entry_source);

private:
  std::vector<ScorerMember> members_;
  int64_t vocab_ = 0;
  Tensor scratch_; // a further member's logits (ensembles only)
};

} // namespace heed
