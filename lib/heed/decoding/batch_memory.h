// The memory one batch needs while it is translated, estimated from the
// model's sizes before anything is allocated, and the check that refuses a
// batch which cannot fit (a beam of 10000 would otherwise end in
// std::bad_alloc after tens of GB, or in the OOM killer).
#pragma once

#include <cstdint>
#include <vector>

#include "heed/model/config.h"

namespace heed {

// Bytes allocated for a batch of `sentences` sources padded to
// `source_length` tokens, searched with `beams` hypotheses each for up to
// `capacity` decoder steps: the decoder's key/value caches (one row per
// hypothesis and layer, plus the one row a reorder saves), the projected
// encoder memory per layer, the logits and attention scores of a step, the
// encoder's activations and scores, and the search's token histories. Counts
// the buffers of model/decoder_state.h, model/encoder.cpp and
// decoding/beam_search.cpp; weights are not included. Caches and memory are
// counted in float32: an upper bound where bfloat16 compute halves them.
int64_t batch_memory_bytes(const MarianConfig &config, int64_t sentences, int64_t source_length,
                           int64_t beams, int64_t capacity);

// OptionError naming beam_size (or batch_size with greedy search) when that
// estimate exceeds available_memory_bytes(), with both figures.
void check_batch_memory(const MarianConfig &config, int64_t sentences, int64_t source_length,
                        int64_t beams, int64_t capacity);

// The same for an ensemble decoded side by side: the sum of its members'
// estimates (each keeps its own encoder output and caches).
void check_batch_memory(const std::vector<const MarianConfig *> &configs, int64_t sentences,
                        int64_t source_length, int64_t beams, int64_t capacity);

} // namespace heed
