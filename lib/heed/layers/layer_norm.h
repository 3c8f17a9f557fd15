// Layer normalization with learned gain and bias (torch.nn.LayerNorm, eps 1e-5).
#pragma once

#include "heed/core/tensor.h"
#include "heed/ops/layer_norm.h"

namespace heed {

struct LayerNorm {
  static constexpr float kEpsilon = 1e-5f;
  Tensor gamma; // [d]
  Tensor beta;  // [d]

  void apply(float *x, int64_t rows) const {
    ops::layer_norm(x, rows, gamma.size(), gamma.data(), beta.data(), kEpsilon);
  }
};

} // namespace heed
