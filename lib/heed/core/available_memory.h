// How much more memory this process can get: what a batch is checked against
// before it is allocated, so that an absurd setting (a beam of 10000) gives a
// clear refusal instead of std::bad_alloc or the OOM killer.
#pragma once

#include <cstdint>

namespace heed {

// The least of: MemAvailable (/proc/meminfo), the room left under the cgroup
// v2 memory.max of this process, and the room left under RLIMIT_AS. INT64_MAX
// when none of them is known.
int64_t available_memory_bytes();

} // namespace heed
