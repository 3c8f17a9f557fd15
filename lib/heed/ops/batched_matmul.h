// Batched matrix products on strided 4-D views, for attention: scores and
// contexts computed straight from the fused projection buffers and the
// key/value caches, without transposing copies. Primitives are created once per
// shape, layout and element type and kept in a cache with their memory objects,
// so that a decoding step only rebinds data pointers and executes.
#pragma once

#include <array>
#include <cstdint>

#include "heed/core/element_type.h"

namespace heed::ops {

// A 4-D view with arbitrary element strides (in elements, not bytes).
struct View4 {
  std::array<int64_t, 4> dims;
  std::array<int64_t, 4> strides;
  ElementType type = ElementType::float32;
};

// c[i,j,m,n] = sum_k a[i,j,m,k] · b[i,j,k,n] (+ mask[i,0,0,n]). The optional
// additive mask is dense [dims0, 1, 1, n] and is fused as a binary post-op.
// `a` and `b` are both float32 or both bfloat16 (oneDNN 2.6 multiplies
// bfloat16 by bfloat16 only), accumulated in float32; `c` and the mask are
// float32. std::logic_error for other types, or where oneDNN would run its
// reference kernel on bfloat16 (which bfloat16 compute refuses at load).
void batched_matmul(const void *a, const View4 &a_view, const void *b, const View4 &b_view,
                    float *c, const View4 &c_view, const float *mask = nullptr);

} // namespace heed::ops
