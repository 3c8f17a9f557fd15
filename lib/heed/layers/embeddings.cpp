#include "heed/layers/embeddings.h"

#include <cmath>

#include "heed/core/bfloat16.h"

namespace heed {
namespace {

inline void embed_row(const Embeddings &e, int64_t id, int64_t position, float *out) {
  const int64_t d = e.d_model();
  const float *pos = e.positions.data() + position * d;
  // Scale first, then add, in float: the order HF uses.
  if (!e.packed_tokens.empty()) {
    e.packed_tokens.read_row(id, out);
    for (int64_t k = 0; k < d; ++k)
      out[k] = out[k] * e.scale + pos[k];
    return;
  }
  if (e.tokens) {
    const float *token = e.tokens->data() + id * d;
    for (int64_t k = 0; k < d; ++k)
      out[k] = token[k] * e.scale + pos[k];
    return;
  }
  if (e.bfloat16_tokens) {
    const uint16_t *token = e.bfloat16_tokens->values.data() + id * d;
    for (int64_t k = 0; k < d; ++k)
      out[k] = from_bfloat16(token[k]) * e.scale + pos[k];
    return;
  }
  // Dequantized exactly as a model converted to int8 stores it: q x row scale.
  const int8_t *q = e.quantized_tokens->values.data() + id * d;
  const float row_scale = e.quantized_tokens->scales[static_cast<size_t>(id)];
  for (int64_t k = 0; k < d; ++k)
    out[k] = (static_cast<float>(q[k]) * row_scale) * e.scale + pos[k];
}

} // namespace

void Embeddings::embed_sequence(const int64_t *ids, int64_t batch, int64_t length,
                                float *out) const {
  const int64_t d = d_model();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < length; ++t)
      embed_row(*this, ids[b * length + t], t, out + (b * length + t) * d);
}

void Embeddings::embed_step(const int64_t *ids, int64_t entries, int64_t position,
                            float *out) const {
  const int64_t d = d_model();
  for (int64_t e = 0; e < entries; ++e)
    embed_row(*this, ids[e], position, out + e * d);
}

Tensor sinusoidal_positions(int64_t positions, int64_t d) {
  Tensor table({positions, d});
  const int64_t half = (d + 1) / 2; // sines fill ceil(d/2) columns
  for (int64_t pos = 0; pos < positions; ++pos) {
    float *row = table.data() + pos * d;
    for (int64_t j = 0; j < d; ++j) {
      // Column j of the raw angle table uses the exponent 2 * (j / 2) / d.
      const double angle =
          static_cast<double>(pos) / std::pow(10000.0, 2.0 * static_cast<double>(j / 2) / d);
      if (j % 2 == 0)
        row[j / 2] = static_cast<float>(std::sin(angle));
      else
        row[half + j / 2] = static_cast<float>(std::cos(angle));
    }
  }
  return table;
}

} // namespace heed
