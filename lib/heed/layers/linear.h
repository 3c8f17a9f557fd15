// A dense layer y = x·Wᵀ + b with the weight in torch's [out, in] layout.
//
// Read as float32 at load, then packed once (pack()) for the compute type: the
// float32 copy is dropped and every forward() runs on the packed weights.
#pragma once

#include <cstdint>

#include "heed/core/tensor.h"
#include "heed/ops/packed_weights.h"

namespace heed {

struct Linear {
  Tensor weight;             // [out, in]; empty once packed
  Tensor bias;               // [out], may be empty
  ops::PackedWeights packed; // set by pack()

  int64_t in_features() const { return packed.empty() ? weight.dim(1) : packed.inputs(); }
  int64_t out_features() const { return packed.empty() ? weight.dim(0) : packed.outputs(); }

  // Quantizes (int8) and reorders the weight for oneDNN, releasing `weight`.
  void pack(ops::ComputeType type) {
    packed = ops::PackedWeights(weight.data(), weight.dim(0), weight.dim(1), type);
    weight = Tensor();
  }

  // y[rows, out] (row stride ldy) = act(x[rows, in] · Wᵀ + b); with
  // `accumulate`, adds into y instead (residual connections). Needs pack().
  void forward(const float *x, int64_t ldx, int64_t rows, float *y, int64_t ldy,
               ops::Activation act = ops::Activation::none, bool accumulate = false) const {
    ops::linear(x, ldx, packed, bias.empty() ? nullptr : bias.data(), y, ldy, rows, act,
                accumulate);
  }
};

// Stacks several layers with the same input into one (fused Q/K/V projections).
Linear concatenate_outputs(const Linear *const *parts, size_t count);

} // namespace heed
