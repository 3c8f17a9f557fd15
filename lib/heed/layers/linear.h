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
    pack_from(weight, type);
    weight = Tensor();
  }
  // The same from a weight [out, in] this layer shares with another use (tied
  // token embeddings), which stays where it is.
  void pack_from(const Tensor &shared_weight, ops::ComputeType type) {
    packed =
        ops::PackedWeights(shared_weight.data(), shared_weight.dim(0), shared_weight.dim(1), type);
  }

  // y[rows, out] (row stride ldy) = act(x[rows, in] · Wᵀ + b); with
  // `accumulate`, adds into y instead (residual connections). Needs pack().
  void forward(const float *x, int64_t ldx, int64_t rows, float *y, int64_t ldy,
               ops::Activation act = ops::Activation::none, bool accumulate = false) const {
    ops::linear(x, ldx, packed, bias.empty() ? nullptr : bias.data(), y, ldy, rows, act,
                accumulate);
  }
};

} // namespace heed
