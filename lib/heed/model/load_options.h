// How a model is loaded. Part of heed's public interface (heed/heed.h):
// standard library types only.
#pragma once

#include <optional>

#include "heed/ops/compute_type.h"

namespace heed {

struct LoadOptions {
  // Arithmetic of the dense layers; unset = the model's own: int8 for a model
  // written by `heed convert --quantize int8`, else float32.
  std::optional<ops::ComputeType> compute_type;
};

} // namespace heed
