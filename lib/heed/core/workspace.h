// Scratch buffers reused across layers and decoding steps. Each slot grows to
// the largest size requested and is then reused, so steady-state decoding does
// not allocate its tensors (the search's own small per-step vectors aside).
#pragma once

#include <array>
#include <cstdint>

#include "heed/core/tensor.h"

namespace heed {

enum class Scratch { activations, projections, scores, context, hidden, rounded, count };

class Workspace {
public:
  float *get(Scratch slot, int64_t elements) {
    Tensor &t = slots_[static_cast<size_t>(slot)];
    t.reserve(elements);
    return t.data();
  }
  // `elements` 16-bit values (bfloat16 copies) in a float slot.
  uint16_t *get_16bit(Scratch slot, int64_t elements) {
    return reinterpret_cast<uint16_t *>(get(slot, (elements + 1) / 2));
  }

private:
  std::array<Tensor, static_cast<size_t>(Scratch::count)> slots_;
};

} // namespace heed
