// The arithmetic of the dense layers: float32; int8 weights and activations
// (per-channel / per-token scales, see packed_weights.h and cpu_isa.h); or
// bfloat16 weights and activations with float32 accumulation (AVX512-BF16 or
// AMX only).
#pragma once

namespace heed::ops {

enum class ComputeType { float32, int8, bfloat16 };

inline const char *compute_type_name(ComputeType type) {
  switch (type) {
  case ComputeType::int8:
    return "int8";
  case ComputeType::bfloat16:
    return "bfloat16";
  case ComputeType::float32:
    break;
  }
  return "float32";
}

} // namespace heed::ops
