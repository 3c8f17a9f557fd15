#include "heed/ops/bfloat16.h"

#include "heed/core/bfloat16.h"

namespace heed::ops {

void to_bfloat16_rows(const float *x, int64_t rows, int64_t cols, int64_t ld, uint16_t *out) {
  // As quantize_rows(): encoder-sized matrices on all threads, decoding steps
  // on the calling one.
  const bool parallel = rows * cols >= (int64_t{1} << 16);
#pragma omp parallel for if (parallel) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float *in = x + r * ld;
    uint16_t *o = out + r * cols;
    for (int64_t c = 0; c < cols; ++c)
      o[c] = to_bfloat16(in[c]);
  }
}

View4 to_bfloat16_view(const float *x, const View4 &view, uint16_t *out) {
  const auto &n = view.dims;
  const auto &st = view.strides;
  uint16_t *o = out;
  for (int64_t i = 0; i < n[0]; ++i)
    for (int64_t j = 0; j < n[1]; ++j)
      for (int64_t m = 0; m < n[2]; ++m) {
        const float *row = x + i * st[0] + j * st[1] + m * st[2];
        for (int64_t k = 0; k < n[3]; ++k)
          *o++ = to_bfloat16(row[k * st[3]]);
      }
  return View4{n, {n[1] * n[2] * n[3], n[2] * n[3], n[3], 1}, ElementType::bfloat16};
}

} // namespace heed::ops
