// Whether a run of float32 values holds no infinity or NaN: one pass the
// compiler vectorises, used on every weight tensor at load (a NaN weight
// poisons every translation) and on every row of log-probabilities a search
// step produces (a non-finite row means the model overflowed).
#pragma once

#include <cstdint>

namespace heed {

// True when none of x[0..n) is infinite or NaN (n = 0: true).
bool all_finite(const float *x, int64_t n);

} // namespace heed
