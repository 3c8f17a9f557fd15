#include "heed/ops/quantize.h"

#include <algorithm>
#include <cmath>

// These loops run over every activation of every int8 matmul, so they are
// compiled for AVX-512 and AVX2 as well, picked at run time (the binary stays
// portable without -march=native).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HEED_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define HEED_VECTOR_CLONES
#endif

namespace heed::ops {
namespace {

// Lane-wise maxima, so that the reduction vectorizes without -ffast-math.
HEED_VECTOR_CLONES float max_abs(const float *x, int64_t n) {
  constexpr int kLanes = 16;
  float lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j)
      lanes[j] = std::max(lanes[j], std::fabs(x[i + j]));
  float m = 0.f;
  for (; i < n; ++i)
    m = std::max(m, std::fabs(x[i]));
  for (float lane : lanes)
    m = std::max(m, lane);
  return m;
}

// Rounds half away from zero; the clamp keeps -128 out and guards against
// values above the scale's maximum through rounding.
HEED_VECTOR_CLONES void quantize(const float *x, int64_t n, float inverse_scale, int8_t *q) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = std::clamp(x[i] * inverse_scale, -127.f, 127.f);
    q[i] = static_cast<int8_t>(static_cast<int>(v + (v >= 0.f ? 0.5f : -0.5f)));
  }
}

} // namespace

void quantize_rows(const float *x, int64_t rows, int64_t cols, int64_t ld, int8_t *q,
                   float *scales) {
  // Every weight of a model quantized at load, and encoder batches of millions
  // of activations per matmul (on one thread that pass took as long as the int8
  // matmul itself), run on all threads. Small (decoding-step) matrices stay on
  // the calling thread, below the cost of a parallel region.
  const bool parallel = rows * cols >= (int64_t{1} << 16);
#pragma omp parallel for if (parallel) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float m = max_abs(x + r * ld, cols);
    const float scale = m > 0.f ? m / 127.f : 1.f;
    scales[r] = scale;
    quantize(x + r * ld, cols, 1.f / scale, q + r * cols);
  }
}

} // namespace heed::ops
