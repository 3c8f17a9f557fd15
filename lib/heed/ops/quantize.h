// Symmetric int8 quantization: a value v becomes round(v / s) in [-L, L] with
// s = max|v| / L over the group sharing a scale, rounding halves away from
// zero. L ("levels") is 127 for activations and for weights on VNNI, 63 for
// weights where oneDNN's int8 kernels would otherwise saturate (cpu_isa.h).
// -128 is never used, so negating a quantized value never overflows.
#pragma once

#include <cstdint>

namespace heed::ops {

inline constexpr int kInt8Levels = 127;

// x[rows, cols] (row stride ld) with one scale per row: per output channel of
// a torch Linear weight, or per token of a matrix of activations (quantized on
// the fly at every call). Writes dense q[rows, cols] and scales[rows]; an
// all-zero row gets scale 1. levels in [1, 127].
void quantize_rows(const float *x, int64_t rows, int64_t cols, int64_t ld, int8_t *q, float *scales,
                   int levels = kInt8Levels);

// The same without the CPU-specific kernels quantize_rows() picks at run time;
// tests check that both agree bit for bit.
void quantize_rows_portable(const float *x, int64_t rows, int64_t cols, int64_t ld, int8_t *q,
                            float *scales, int levels = kInt8Levels);

} // namespace heed::ops
