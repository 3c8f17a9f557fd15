// Layer normalization over the last axis on oneDNN, in place.
#pragma once

#include <cstdint>

namespace heed::ops {

// x[rows, cols] <- (x - mean) / sqrt(var + eps) * gamma + beta, per row.
void layer_norm(float *x, int64_t rows, int64_t cols, const float *gamma, const float *beta,
                float eps);

} // namespace heed::ops
