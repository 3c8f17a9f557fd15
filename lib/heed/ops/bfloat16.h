// Activations of a bfloat16 matmul, converted from float32 at every call
// (rounding as heed/core/bfloat16.h).
#pragma once

#include <cstdint>

#include "heed/ops/batched_matmul.h"

namespace heed::ops {

// x[rows, cols] (row stride ld) -> dense out[rows, cols] in bfloat16.
void to_bfloat16_rows(const float *x, int64_t rows, int64_t cols, int64_t ld, uint16_t *out);

// A float32 view (any strides) -> a dense bfloat16 copy in `out` (dims[0] x
// ... x dims[3] elements); returns the copy's view, for batched_matmul.
View4 to_bfloat16_view(const float *x, const View4 &view, uint16_t *out);

} // namespace heed::ops
