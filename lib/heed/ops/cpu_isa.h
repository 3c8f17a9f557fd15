// What oneDNN's kernels can use on this processor, as oneDNN itself reports it
// (dnnl::get_effective_cpu_isa(): the best instruction set both present and
// allowed by ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA), and what follows from it
// for heed's int8 and bfloat16 arithmetic.
#pragma once

#include <string>

namespace heed::ops {

// oneDNN's name of the effective instruction set, e.g. "avx2",
// "avx512_core_vnni", "avx512_core_amx".
std::string cpu_isa_name();

// How oneDNN multiplies int8 matrices here (oneDNN's "Nuances of int8
// computations"). With VNNI (AVX512-VNNI or AVX-VNNI) vpdpbusd sums four u8 x s8
// products straight into 32 bits: exact for any s8 operands. Without it,
// vpmaddubsw adds two u8 x s8 products into a *saturating* 16-bit integer
// before widening; s8 activations reach it shifted to u8 (up to 255), so
// 2 x 255 x 127 = 64770 would clip at 32767. Weights limited to |q| <= 63 keep
// every pair sum within range (2 x 255 x 63 = 32130): exact again, at the cost
// of one bit of weight precision. There heed also multiplies through 1x1
// convolutions rather than matmuls (packed_weights.cpp says why).
struct Int8Kernels {
  bool vnni = false;       // else: 7-bit weights, 1x1 convolution kernels
  int weight_levels = 127; // largest |quantized weight|: 127 with VNNI, else 63
  std::string description; // one line for `heed info`
};

// Decided once per process, at the first call (packed weights depend on it).
const Int8Kernels &int8_kernels();

// Whether oneDNN has native bfloat16 matmul kernels here (AVX512-BF16 or AMX);
// elsewhere it would run bfloat16 on slow reference kernels, or not at all.
bool has_bfloat16_kernels();
// Why bfloat16 is unavailable (empty when it is available), one sentence.
std::string bfloat16_unavailable_reason();
// What bfloat16 gives here, one line for `heed info`: "available: AMX ..."
// or "available: AVX512-BF16 without AMX ..." (half the weight bytes; dot
// products at twice float32's rate on AMD Zen 4, about half of it on Intel
// processors without AMX, so faster there only where reading the weights
// bounds a step), else "unavailable: " and the reason.
std::string bfloat16_kernels_description();

} // namespace heed::ops
