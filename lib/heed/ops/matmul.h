// Matrix products on oneDNN matmul primitives. Primitives are created once per
// shape (and layout) and kept in a cache, together with their memory objects,
// so that a decoding step only rebinds data pointers and executes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace heed::ops {

enum class Activation { none, relu, swish, gelu_erf, gelu_tanh };

// y[M,N] (row stride ldy) = act(x[M,K] (row stride ldx) · Wᵀ + bias), where W is
// stored [N,K] row-major as in a torch Linear layer and bias may be null.
// With `accumulate`, the product and bias are added to what y already holds
// (a fused residual connection) and `act` must be none.
void linear(const float *x, int64_t ldx, const float *w, const float *bias, float *y, int64_t ldy,
            int64_t M, int64_t K, int64_t N, Activation act = Activation::none,
            bool accumulate = false);

// A 4-D view on float memory with arbitrary element strides.
struct View4 {
  std::array<int64_t, 4> dims;
  std::array<int64_t, 4> strides;
};

// c[i,j,m,n] = sum_k a[i,j,m,k] · b[i,j,k,n] (+ mask[i,0,0,n]), for attention
// scores and contexts laid out inside projection buffers without transposes. The
// optional additive mask is dense [dims0, 1, 1, n] and is fused as a binary
// post-op.
void batched_matmul(const float *a, const View4 &a_view, const float *b, const View4 &b_view,
                    float *c, const View4 &c_view, const float *mask = nullptr);

// Number of primitives held by the caches (for tests and benchmarks).
size_t cached_primitive_count();

} // namespace heed::ops
