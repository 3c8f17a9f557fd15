#include "heed/ops/cpu_isa.h"

#include <oneapi/dnnl/dnnl.hpp>

namespace heed::ops {
namespace {

using isa = dnnl::cpu_isa;

// oneDNN's instruction sets are bit masks, each including the bits of those
// it extends (avx512_core_bf16 = avx512_core_vnni | bf16 bit, amx = bf16 | amx
// bits); avx2_vnni is avx2 plus its own bit.
bool includes(isa effective, isa wanted) {
  const auto e = static_cast<unsigned>(effective), w = static_cast<unsigned>(wanted);
  return w != 0 && (e & w) == w;
}

isa effective_isa() { return dnnl::get_effective_cpu_isa(); }

} // namespace

std::string cpu_isa_name() {
  switch (effective_isa()) {
  case isa::all:
    return "all";
  case isa::sse41:
    return "sse41";
  case isa::avx:
    return "avx";
  case isa::avx2:
    return "avx2";
  case isa::avx2_vnni:
    return "avx2_vnni";
  case isa::avx512_mic:
    return "avx512_mic";
  case isa::avx512_mic_4ops:
    return "avx512_mic_4ops";
  case isa::avx512_core:
    return "avx512_core";
  case isa::avx512_core_vnni:
    return "avx512_core_vnni";
  case isa::avx512_core_bf16:
    return "avx512_core_bf16";
  case isa::avx512_core_amx:
    return "avx512_core_amx";
  }
  return "unknown (" + std::to_string(static_cast<unsigned>(effective_isa())) + ")";
}

const Int8Kernels &int8_kernels() {
  static const Int8Kernels kernels = [] {
    Int8Kernels k;
    const isa e = effective_isa();
    k.vnni = includes(e, isa::avx512_core_vnni) || includes(e, isa::avx2_vnni);
    k.weight_levels = k.vnni ? 127 : 63;
    k.description =
        k.vnni ? "VNNI (" + cpu_isa_name() + "): 8-bit weights, exact int32 sums, matmul kernels"
               : "no VNNI (" + cpu_isa_name() +
                     "): 7-bit weights (|q| <= 63), so that 16-bit pair sums "
                     "cannot saturate; 1x1 convolution kernels";
    return k;
  }();
  return kernels;
}

bool has_bfloat16_kernels() { return includes(effective_isa(), isa::avx512_core_bf16); }

std::string bfloat16_unavailable_reason() {
  if (has_bfloat16_kernels())
    return "";
  return "bfloat16 needs a processor with AVX512-BF16 or AMX, and oneDNN reports " +
         cpu_isa_name() + " here (its bfloat16 fallbacks are slow reference kernels)";
}

std::string bfloat16_kernels_description() {
  if (!has_bfloat16_kernels())
    return "unavailable: " + bfloat16_unavailable_reason();
  if (includes(effective_isa(), isa::avx512_core_amx))
    return "available: AMX (" + cpu_isa_name() +
           "): half the weight bytes and bfloat16 tile products, faster than float32 at every "
           "batch size";
  // Without AMX, bfloat16 products are VDPBF16PS, whose rate depends on the
  // processor. In oneDNN 2.6, a 128 x 512 by 512 x 15,001 product on one
  // thread: a Xeon with AVX512-BF16 and no AMX took 1.8x float32's time, an
  // AMD Zen 4 0.50x (4.95 against 10.00 ms). Zen 4 is the AMD processor with
  // AVX512-BF16.
  const std::string head = "available: AVX512-BF16 without AMX (" + cpu_isa_name() +
                           "): half the weight bytes, so faster than float32 where reading the "
                           "weights bounds a step (batch 1, greedy)";
  if (__builtin_cpu_is("amd"))
    return head + ", and on this AMD processor products at twice float32's rate, so faster at "
                  "large batches and beams too";
  return head + ", but on Intel processors products at about half float32's rate, so slower "
                "at large batches and beams";
}

} // namespace heed::ops
