// Making the pages of memory about to be written whole resident in one system
// call, instead of one page fault per 4 KiB page as the writes first touch
// them.
#pragma once

#include <cstddef>

namespace heed {

// Asks the kernel to allocate the pages inside [data, data + bytes) now
// (MADV_POPULATE_WRITE, Linux 5.14 and later); the partial pages at either end
// are left to fault as usual. Only for memory the caller is about to write in
// full (weights being read or packed at load): it makes every page resident,
// so a buffer reserved for more than it will hold (the decoder caches are
// sized for the longest possible translation) must not use it. Why: on a
// virtual machine each page fault exits to the hypervisor, and on a 2-core
// AMD EPYC VM page faults were a third of loading a model (`perf`). Best
// effort: a kernel that refuses (older than 5.14, or memory it cannot
// populate) leaves the pages to fault as before, and nothing is reported.
void prefault_for_writing(void *data, size_t bytes);

} // namespace heed
