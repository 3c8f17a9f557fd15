// Activations of a bfloat16 matmul, converted from float32 at every call
// (rounding as heed/core/bfloat16.h).
#pragma once

#include <cstdint>

namespace heed::ops {

// x[rows, cols] (row stride ld) -> dense out[rows, cols] in bfloat16.
void to_bfloat16_rows(const float *x, int64_t rows, int64_t cols, int64_t ld, uint16_t *out);

} // namespace heed::ops
