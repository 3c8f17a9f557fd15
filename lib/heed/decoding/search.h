// Greedy and beam search with the semantics of transformers' generate()
// (4.50+: vectorised beam search with the early-stopping heuristic decided per
// sentence). Each sentence's result depends only on that sentence: finished
// sentences leave the batch, and nothing is shared between sentences but the
// matrix products.
#pragma once

#include <vector>

#include "heed/core/workspace.h"
#include "heed/decoding/search_options.h"
#include "heed/decoding/step_scorer.h"
#include "heed/decoding/token_sampler.h"
#include "heed/model/decoder.h"

namespace heed {

// Greedy search, or sampling with options.do_sample (transformers' _sample):
// the processors, then the argmax or a draw (decoding/token_sampler.h) with
// generators[i] for sentence i (required when sampling, one per sentence).
// `state` must have been started with group = 1. Returns one hypothesis per
// sentence; its score is the sum of the chosen tokens' log-probabilities
// after the processors (with a repetition penalty, the log-softmax of the
// penalised logits), before the sampling warpers.
std::vector<std::vector<Hypothesis>>
greedy_search(const Decoder &decoder, DecoderState &state, const SearchOptions &options,
              Workspace &ws, DecoderObserver *observer = nullptr,
              std::vector<SentenceGenerator> *generators = nullptr);

// `state` must have been started with group = options.num_beams. Returns
// options.n_best hypotheses per sentence, best first.
std::vector<std::vector<Hypothesis>> beam_search(const Decoder &decoder, DecoderState &state,
                                                 const SearchOptions &options, Workspace &ws,
                                                 DecoderObserver *observer = nullptr);

// The same searches on the combined distribution of a StepScorer (one model
// or an ensemble, decoding/step_scorer.h): the overloads above run these with
// the one model. The observer sees the first member's attention.
std::vector<std::vector<Hypothesis>>
greedy_search(StepScorer &scorer, const SearchOptions &options, Workspace &ws,
              DecoderObserver *observer = nullptr,
              std::vector<SentenceGenerator> *generators = nullptr);
std::vector<std::vector<Hypothesis>> beam_search(StepScorer &scorer, const SearchOptions &options,
                                                 Workspace &ws,
                                                 DecoderObserver *observer = nullptr);

} // namespace heed
