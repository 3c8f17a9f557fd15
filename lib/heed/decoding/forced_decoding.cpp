#include "heed/decoding/forced_decoding.h"

#include <numeric>

namespace heed {

std::vector<TargetScore> score_targets(const Decoder &decoder, DecoderState &state,
                                       const std::vector<std::vector<int64_t>> &targets,
                                       int64_t decoder_start_token_id, Workspace &ws) {
  StepScorer scorer(decoder, state);
  return score_targets(scorer, targets, decoder_start_token_id, ws);
}

std::vector<TargetScore> score_targets(StepScorer &scorer,
                                       const std::vector<std::vector<int64_t>> &targets,
                                       int64_t decoder_start_token_id, Workspace &ws) {
  const int64_t sentences = static_cast<int64_t>(targets.size()), vocab = scorer.vocab_size();
  std::vector<TargetScore> results(sentences);
  std::vector<int64_t> active(sentences);
  std::iota(active.begin(), active.end(), 0);
  std::vector<int64_t> tokens(sentences, decoder_start_token_id);
  Tensor logits;
  logits.reserve(sentences * vocab);
  for (int64_t t = 0; !active.empty(); ++t) {
    const int64_t rows = static_cast<int64_t>(active.size());
    scorer.step(tokens.data(), logits.data(), ws);
    std::vector<int64_t> keep, next_active, next_tokens;
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t s = active[i];
      const auto &target = targets[s];
      const float lp = logits[i * vocab + target[t]];
      results[s].token_log_probs.push_back(lp);
      results[s].total += lp;
      if (t + 1 < static_cast<int64_t>(target.size())) {
        keep.push_back(i);
        next_active.push_back(s);
        next_tokens.push_back(target[t]);
      }
    }
    if (static_cast<int64_t>(keep.size()) != rows && !keep.empty())
      scorer.select(keep, keep);
    active = std::move(next_active);
    tokens = std::move(next_tokens);
  }
  return results;
}

} // namespace heed
