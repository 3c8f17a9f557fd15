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

} // namespace heed::ops
