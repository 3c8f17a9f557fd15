// oneDNN spellings of heed's activations (for the packed dense layers).
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <stdexcept>

#include "heed/ops/activation.h"

namespace heed::ops {

inline dnnl::algorithm eltwise_algorithm(Activation act) {
  switch (act) {
  case Activation::relu:
    return dnnl::algorithm::eltwise_relu;
  case Activation::swish:
    return dnnl::algorithm::eltwise_swish;
  case Activation::gelu_erf:
    return dnnl::algorithm::eltwise_gelu_erf;
  case Activation::gelu_tanh:
    return dnnl::algorithm::eltwise_gelu_tanh;
  case Activation::none:
    break;
  }
  throw std::logic_error("eltwise_algorithm: no activation");
}

// oneDNN's alpha for act: swish is x·sigmoid(alpha·x); relu's alpha is the
// negative slope, unused by the gelus.
inline float eltwise_alpha(Activation act) { return act == Activation::swish ? 1.f : 0.f; }

// Appends act as an eltwise post-op.
inline void append_activation(dnnl::post_ops &ops, Activation act) {
  if (act != Activation::none)
    ops.append_eltwise(1.f, eltwise_algorithm(act), eltwise_alpha(act), 0.f);
}

} // namespace heed::ops
