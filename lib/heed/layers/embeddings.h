// Token embeddings scaled by √d_model (when the model says so) plus Marian's
// sinusoidal positions: the first half of each position vector holds sines, the
// second half cosines, of pos / 10000^(2j/d).
#pragma once

#include <cstdint>
#include <memory>

#include "heed/core/tensor.h"

namespace heed {

struct Embeddings {
  std::shared_ptr<const Tensor> tokens; // [vocab, d]; may be shared by encoder and decoder
  Tensor positions;                     // [max_positions, d]
  float scale = 1.f;

  int64_t d_model() const { return tokens->dim(1); }

  // out[b * length + t] = embed(ids[b * length + t]) at position t.
  void embed_sequence(const int64_t *ids, int64_t batch, int64_t length, float *out) const;
  // out[e] = embed(ids[e]) at position `position`, for a decoding step.
  void embed_step(const int64_t *ids, int64_t entries, int64_t position, float *out) const;
};

// The sinusoidal table of transformers' MarianSinusoidalPositionalEmbedding.
Tensor sinusoidal_positions(int64_t positions, int64_t d);

} // namespace heed
