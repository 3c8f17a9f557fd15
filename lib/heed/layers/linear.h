// A dense layer y = x·Wᵀ + b with the weight in torch's [out, in] layout.
//
// Read at load as float32, or for int8 compute as int8 rows with their scales,
// then packed once (pack()) for the compute type: the copy read is dropped and
// every forward() runs on the packed weights.
#pragma once

#include <cstdint>
#include <stdexcept>

#include "heed/core/tensor.h"
#include "heed/layers/quantized_rows.h"
#include "heed/ops/packed_weights.h"

namespace heed {

struct Linear {
  // Before pack(), exactly one of these holds the weight [out, in]: int8
  // compute reads `quantized_weight`, the others `weight`.
  Tensor weight;
  QuantizedRows quantized_weight;
  Tensor bias;               // [out], may be empty
  ops::PackedWeights packed; // set by pack()

  int64_t in_features() const {
    return !packed.empty() ? packed.inputs()
                           : (quantized_weight.empty() ? weight.dim(1) : quantized_weight.cols);
  }
  int64_t out_features() const {
    return !packed.empty() ? packed.outputs()
                           : (quantized_weight.empty() ? weight.dim(0) : quantized_weight.rows);
  }

  // Quantizes (int8 from float32) and reorders the weight for oneDNN,
  // releasing what was read. int8 rows pack only for int8 compute.
  void pack(ops::ComputeType type) {
    if (!quantized_weight.empty()) {
      if (type != ops::ComputeType::int8)
        throw std::logic_error("Linear::pack: int8 weights packed for another compute type");
      pack_from(quantized_weight);
      quantized_weight = QuantizedRows();
      return;
    }
    pack_from(weight, type);
    weight = Tensor();
  }
  // int8 from a table this layer shares (tied token embeddings in int8).
  void pack_from(const QuantizedRows &shared_weight) {
    packed = ops::PackedWeights(shared_weight.values.data(), shared_weight.scales.data(),
                                shared_weight.rows, shared_weight.cols);
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
