// How fast this machine streams memory into the cores: the denominator of the
// weight-bandwidth bound of a decoding step (a batch-1 step must read every
// weight it multiplies by once, so it cannot take less than bytes / bandwidth).
#pragma once

#include <cstdint>

namespace heed {

// Best of `repeats` timed passes summing a buffer far larger than the caches,
// with the current OpenMP thread count; bytes per second.
double measure_read_bandwidth(int64_t bytes = int64_t{512} << 20, int repeats = 5);

// Resident memory of this process now, in bytes.
int64_t current_rss_bytes();
// Its peak (Linux's VmHWM) since the start or the last restart_peak_rss(), in
// bytes.
int64_t peak_rss_bytes();
// Sets that peak back to the current RSS (writes 5 to /proc/self/clear_refs),
// so that the next peak_rss_bytes() is the peak of what ran in between; false
// where the kernel refuses (the peak then stays the process's).
bool restart_peak_rss();

} // namespace heed
