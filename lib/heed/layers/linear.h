// A dense layer y = x·Wᵀ + b with the weight in torch's [out, in] layout.
#pragma once

#include <cstdint>

#include "heed/core/tensor.h"
#include "heed/ops/matmul.h"

namespace heed {

struct Linear {
  Tensor weight; // [out, in]
  Tensor bias;   // [out], may be empty

  int64_t in_features() const { return weight.dim(1); }
  int64_t out_features() const { return weight.dim(0); }

  // y[rows, out] (row stride ldy) = act(x[rows, in] · Wᵀ + b); with
  // `accumulate`, adds into y instead (residual connections).
  void forward(const float *x, int64_t ldx, int64_t rows, float *y, int64_t ldy,
               ops::Activation act = ops::Activation::none, bool accumulate = false) const {
    ops::linear(x, ldx, weight.data(), bias.empty() ? nullptr : bias.data(), y, ldy, rows,
                in_features(), out_features(), act, accumulate);
  }
};

// Stacks several layers with the same input into one (fused Q/K/V projections).
Linear concatenate_outputs(const Linear *const *parts, size_t count);

} // namespace heed
