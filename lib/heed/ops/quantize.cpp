#include "heed/ops/quantize.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HEED_HAVE_X86_KERNELS 1
#endif

namespace heed::ops {
namespace {

// These two loops run over every activation of every int8 matmul, several
// million values per decoding step of a 32-sentence batch. Written portably,
// GCC keeps them scalar (the selects and the float-to-int conversion do not
// vectorize without -ffast-math), which made quantization cost as much as the
// VNNI matmuls it feeds; hence explicit AVX-512 and AVX2 kernels, picked at
// run time so that the binary stays portable, with the portable loops as the
// fallback.
// Both compute the same values bit for bit (a unit test checks it).

// Rounding half away from zero, exactly: trunc(v + 0.5) would round
// 0.49999997 up, because that sum rounds to 1.0 in float.
float round_half_away(float v) {
  const float t = std::trunc(v);
  return std::fabs(v - t) >= 0.5f ? t + std::copysign(1.f, v) : t;
}

float max_abs_portable(const float *x, int64_t n) {
  float m = 0.f;
  for (int64_t i = 0; i < n; ++i)
    m = std::max(m, std::fabs(x[i]));
  return m;
}

// The clamp keeps -128 out and guards against values above the scale's
// maximum.
void quantize_portable(const float *x, int64_t n, float inverse_scale, float levels, int8_t *q) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = std::fmin(std::fmax(x[i] * inverse_scale, -levels), levels);
    q[i] = static_cast<int8_t>(round_half_away(v));
  }
}

#ifdef HEED_HAVE_X86_KERNELS

// GCC 12's intrinsics start vectors from _mm512_undefined_*() and then warn
// about them (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

__attribute__((target("avx512f"))) __mmask16 tail_mask(int64_t remaining) {
  return static_cast<__mmask16>((1u << remaining) - 1u);
}

__attribute__((target("avx512f"))) float max_abs_avx512(const float *x, int64_t n) {
  __m512 m = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + i)));
  if (i < n)
    m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_maskz_loadu_ps(tail_mask(n - i), x + i)));
  return _mm512_reduce_max_ps(m);
}

__attribute__((target("avx512f"))) void
quantize_avx512(const float *x, int64_t n, float inverse_scale, float levels, int8_t *q) {
  const __m512 scale = _mm512_set1_ps(inverse_scale);
  const __m512 low = _mm512_set1_ps(-levels), high = _mm512_set1_ps(levels);
  const __m512 half = _mm512_set1_ps(0.5f);
  const __m512i sign_bit = _mm512_set1_epi32(static_cast<int>(0x80000000u));
  const __m512i one = _mm512_castps_si512(_mm512_set1_ps(1.f));
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 lanes = n - i >= 16 ? static_cast<__mmask16>(0xffff) : tail_mask(n - i);
    __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, x + i), scale);
    v = _mm512_min_ps(_mm512_max_ps(v, low), high);
    const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __mmask16 round_up =
        _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(v, t)), half, _CMP_GE_OQ);
    const __m512 signed_one = _mm512_castsi512_ps(
        _mm512_or_si512(_mm512_and_si512(_mm512_castps_si512(v), sign_bit), one));
    const __m512 r = _mm512_mask_add_ps(t, round_up, t, signed_one);
    _mm512_mask_cvtepi32_storeu_epi8(q + i, lanes, _mm512_cvttps_epi32(r));
  }
}

// AVX2 (Zen 2/3, Haswell to Coffee Lake): 8 lanes, the tails through the
// portable loops, which compute the same values.

__attribute__((target("avx2"))) float max_abs_avx2(const float *x, int64_t n) {
  const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 m = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(x + i), magnitude));
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
  return std::max(_mm_cvtss_f32(h), max_abs_portable(x + i, n - i));
}

__attribute__((target("avx2"))) void quantize_avx2(const float *x, int64_t n, float inverse_scale,
                                                   float levels, int8_t *q) {
  const __m256 scale = _mm256_set1_ps(inverse_scale);
  const __m256 low = _mm256_set1_ps(-levels), high = _mm256_set1_ps(levels);
  const __m256 half = _mm256_set1_ps(0.5f);
  const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 sign_bit = _mm256_castsi256_ps(_mm256_set1_epi32(static_cast<int>(0x80000000u)));
  const __m256 one = _mm256_set1_ps(1.f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), scale);
    v = _mm256_min_ps(_mm256_max_ps(v, low), high);
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 round_up =
        _mm256_cmp_ps(_mm256_and_ps(_mm256_sub_ps(v, t), magnitude), half, _CMP_GE_OQ);
    const __m256 signed_one = _mm256_or_ps(_mm256_and_ps(v, sign_bit), one);
    const __m256 r = _mm256_add_ps(t, _mm256_and_ps(round_up, signed_one));
    const __m256i w = _mm256_cvttps_epi32(r);
    // |values| <= 127: the saturating packs keep them as they are, in order.
    const __m128i words =
        _mm_packs_epi32(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i *>(q + i), _mm_packs_epi16(words, words));
  }
  quantize_portable(x + i, n - i, inverse_scale, levels, q + i);
}

#pragma GCC diagnostic pop

#endif

struct Kernels {
  float (*max_abs)(const float *, int64_t);
  void (*quantize)(const float *, int64_t, float, float, int8_t *);
};

Kernels select_kernels() {
#ifdef HEED_HAVE_X86_KERNELS
  if (__builtin_cpu_supports("avx512f"))
    return {max_abs_avx512, quantize_avx512};
  if (__builtin_cpu_supports("avx2"))
    return {max_abs_avx2, quantize_avx2};
#endif
  return {max_abs_portable, quantize_portable};
}

void quantize_rows_with(const Kernels &k, const float *x, int64_t rows, int64_t cols, int64_t ld,
                        int8_t *q, float *scales, int levels) {
  if (levels < 1 || levels > 127)
    throw std::logic_error("quantize_rows: levels must be in [1, 127]");
  const float top = static_cast<float>(levels);
  // Every weight of a model quantized at load, and encoder batches of millions
  // of activations per matmul, run on all threads. Small (decoding-step)
  // matrices stay on the calling thread, below the cost of a parallel region.
  const bool parallel = rows * cols >= (int64_t{1} << 16);
#pragma omp parallel for if (parallel) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float m = k.max_abs(x + r * ld, cols);
    const float scale = m > 0.f ? m / top : 1.f;
    scales[r] = scale;
    k.quantize(x + r * ld, cols, 1.f / scale, top, q + r * cols);
  }
}

} // namespace

void quantize_rows(const float *x, int64_t rows, int64_t cols, int64_t ld, int8_t *q, float *scales,
                   int levels) {
  static const Kernels kernels = select_kernels();
  quantize_rows_with(kernels, x, rows, cols, ld, q, scales, levels);
}

void quantize_rows_portable(const float *x, int64_t rows, int64_t cols, int64_t ld, int8_t *q,
                            float *scales, int levels) {
  quantize_rows_with({max_abs_portable, quantize_portable}, x, rows, cols, ld, q, scales, levels);
}

} // namespace heed::ops
