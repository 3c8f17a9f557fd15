#include "heed/core/prefault.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

// Linux 5.14's value, for C libraries whose headers predate it.
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace heed {

void prefault_for_writing(void *data, size_t bytes) {
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(data);
  const uintptr_t first = (begin + page - 1) / page * page;
  const uintptr_t last = (begin + bytes) / page * page;
  if (data == nullptr || last <= first)
    return;
  // The result is deliberately ignored: the pages fault in as usual where the
  // kernel declines.
  (void)::madvise(reinterpret_cast<void *>(first), last - first, MADV_POPULATE_WRITE);
}

} // namespace heed
