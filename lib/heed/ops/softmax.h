// Row-wise softmax and log-softmax on oneDNN, in place.
#pragma once

#include <cstdint>

namespace heed::ops {

// x[rows, cols] (row stride ld) <- softmax over each row.
void softmax(float *x, int64_t rows, int64_t cols, int64_t ld);

// x[rows, cols] (dense) <- log_softmax over each row.
void log_softmax(float *x, int64_t rows, int64_t cols);

} // namespace heed::ops
