// How fast this machine streams memory into the cores: the denominator of the
// weight-bandwidth bound of a decoding step (a batch-1 step must read every
// weight it multiplies by once, so it cannot take less than bytes / bandwidth).
#pragma once

#include <cstdint>

namespace heed {

// Best of `repeats` timed passes summing a buffer far larger than the caches,
// with the current OpenMP thread count; bytes per second.
double measure_read_bandwidth(int64_t bytes = int64_t{512} << 20, int repeats = 5);

// Resident memory of this process now, and its peak so far, in bytes.
int64_t current_rss_bytes();
int64_t peak_rss_bytes();

} // namespace heed
