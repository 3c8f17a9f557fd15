// Batched matrix products on strided 4-D views, for attention: scores and
// contexts computed straight from the fused projection buffers and the
// key/value caches, without transposing copies. Primitives are created once per
// shape and layout and kept in a cache with their memory objects, so that a
// decoding step only rebinds data pointers and executes.
#pragma once

#include <array>
#include <cstdint>

namespace heed::ops {

// A 4-D view on float memory with arbitrary element strides.
struct View4 {
  std::array<int64_t, 4> dims;
  std::array<int64_t, 4> strides;
};

// c[i,j,m,n] = sum_k a[i,j,m,k] · b[i,j,k,n] (+ mask[i,0,0,n]). The optional
// additive mask is dense [dims0, 1, 1, n] and is fused as a binary post-op.
void batched_matmul(const float *a, const View4 &a_view, const float *b, const View4 &b_view,
                    float *c, const View4 &c_view, const float *mask = nullptr);

} // namespace heed::ops
