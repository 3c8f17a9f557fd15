// Teacher-forced scoring of given target sequences: the log-probability the
// model assigns to each target token (EOS included), without logits processors.
#pragma once

#include <vector>

#include "heed/core/workspace.h"
#include "heed/decoding/step_scorer.h"
#include "heed/model/decoder.h"

namespace heed {

struct TargetScore {
  std::vector<float> token_log_probs;
  float total = 0;
};

// `state` must have been started with group = 1 and one sentence per target;
// each target ends with EOS.
std::vector<TargetScore> score_targets(const Decoder &decoder, DecoderState &state,
                                       const std::vector<std::vector<int64_t>> &targets,
                                       int64_t decoder_start_token_id, Workspace &ws);

// The same on a StepScorer's combined log-probabilities: with an ensemble,
// each token's score is the weighted sum of the members' log-probabilities.
std::vector<TargetScore> score_targets(StepScorer &scorer,
                                       const std::vector<std::vector<int64_t>> &targets,
                                       int64_t decoder_start_token_id, Workspace &ws);

} // namespace heed
