// The activations a dense layer can apply to its output (fused into the
// matmul as a post-op where oneDNN allows).
#pragma once

namespace heed::ops {

enum class Activation { none, relu, swish, gelu_erf, gelu_tanh };

} // namespace heed::ops
