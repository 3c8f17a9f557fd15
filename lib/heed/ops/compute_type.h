// The arithmetic of the dense layers: float32, or int8 weights and activations
// on VNNI (see packed_weights.h).
#pragma once

#include <string>

namespace heed::ops {

enum class ComputeType { float32, int8 };

inline const char *compute_type_name(ComputeType type) {
  return type == ComputeType::int8 ? "int8" : "float32";
}

} // namespace heed::ops
