// Position-wise feed-forward block: h += fc2(act(fc1(h))).
#pragma once

#include "heed/core/workspace.h"
#include "heed/layers/linear.h"

namespace heed {

struct FeedForward {
  Linear fc1; // [ffn, d], activation fused as a post-op
  Linear fc2; // [d, ffn], residual fused as a sum post-op
  ops::Activation activation = ops::Activation::relu;

  void forward(float *h, int64_t rows, Workspace &ws) const {
    const int64_t d = fc2.out_features(), ffn = fc1.out_features();
    float *hidden = ws.get(Scratch::hidden, rows * ffn);
    fc1.forward(h, d, rows, hidden, ffn, activation);
    fc2.forward(hidden, ffn, rows, h, d, ops::Activation::none, /*accumulate=*/true);
  }
};

} // namespace heed
