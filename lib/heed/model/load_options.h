// How a model is loaded. Part of heed's public interface (heed/heed.h):
// standard library types only.
#pragma once

#include <optional>

#include "heed/ops/compute_type.h"

namespace heed {

struct LoadOptions {
  // Arithmetic of the dense layers; unset = the model's own: int8 for a model
  // written by `heed convert --quantize int8`, bfloat16 for one written by
  // `heed convert --quantize bfloat16` where the processor has AVX512-BF16 or
  // AMX, else float32. bfloat16 elsewhere is refused (OptionError).
  std::optional<ops::ComputeType> compute_type;
};

} // namespace heed
