#include "heed/core/finite.h"

#include <cstring>

namespace heed {

bool all_finite(const float *x, int64_t n) {
  // A float is infinite or NaN exactly when its exponent bits are all ones;
  // adding one to the exponent field then carries into the sign bit. Integer
  // and/add/or vectorise, where std::isfinite on floats compiled to a scalar
  // loop (12% of a beam-4 batch-32 search over a 58k vocabulary, and a pass
  // of its own over every weight at load).
  uint32_t carries = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    carries |= (bits & 0x7f800000u) + 0x00800000u;
  }
  return (carries & 0x80000000u) == 0;
}

} // namespace heed
