// Greedy and beam search with the semantics of transformers' generate()
// (4.50+: vectorised beam search with the early-stopping heuristic decided per
// sentence). Each sentence's result depends only on that sentence: finished
// sentences leave the batch, and nothing is shared between sentences but the
// matrix products.
#pragma once

#include <vector>

#include "heed/core/workspace.h"
#include "heed/decoding/search_options.h"
#include "heed/model/decoder.h"

namespace heed {

// `state` must have been started with group = 1. Returns one hypothesis per sentence.
std::vector<std::vector<Hypothesis>> greedy_search(const Decoder &decoder, DecoderState &state,
                                                   const SearchOptions &options, Workspace &ws,
                                                   DecoderObserver *observer = nullptr);

// `state` must have been started with group = options.num_beams. Returns
// options.n_best hypotheses per sentence, best first.
std::vector<std::vector<Hypothesis>> beam_search(const Decoder &decoder, DecoderState &state,
                                                 const SearchOptions &options, Workspace &ws,
                                                 DecoderObserver *observer = nullptr);

} // namespace heed
