// Token embeddings scaled by √d_model (when the model says so) plus Marian's
// sinusoidal positions: the first half of each position vector holds sines, the
// second half cosines, of pos / 10000^(2j/d).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "heed/core/tensor.h"
#include "heed/layers/quantized_rows.h"
#include "heed/ops/packed_weights.h"

namespace heed {

// A token table in bfloat16 (bfloat16 compute keeps no float32 copy).
struct BFloat16Rows {
  std::vector<uint16_t> values; // [rows, cols]
  int64_t rows = 0, cols = 0;
};

struct Embeddings {
  // [vocab, d]; may be shared by encoder and decoder. Exactly one is set: a
  // table tied to the output projection is read from its packed weights
  // (`packed_tokens`, where they hold the table's values: see
  // PackedWeights::rows_readable), so that the largest matrix is stored once;
  // else with int8 compute the table is `quantized_tokens`, with bfloat16
  // `bfloat16_tokens`, else `tokens`.
  ops::PackedWeights packed_tokens;
  std::shared_ptr<const Tensor> tokens;
  std::shared_ptr<const QuantizedRows> quantized_tokens;
  std::shared_ptr<const BFloat16Rows> bfloat16_tokens;
  Tensor positions; // [max_positions, d]
  float scale = 1.f;

  int64_t d_model() const {
    return !packed_tokens.empty() ? packed_tokens.inputs()
           : tokens               ? tokens->dim(1)
           : quantized_tokens     ? quantized_tokens->cols
                                  : bfloat16_tokens->cols;
  }

  // out[b * length + t] = embed(ids[b * length + t]) at position t.
  void embed_sequence(const int64_t *ids, int64_t batch, int64_t length, float *out) const;
  // out[e] = embed(ids[e]) at position `position`, for a decoding step.
  void embed_step(const int64_t *ids, int64_t entries, int64_t position, float *out) const;
};

// The sinusoidal table of transformers' MarianSinusoidalPositionalEmbedding.
Tensor sinusoidal_positions(int64_t positions, int64_t d);

} // namespace heed
