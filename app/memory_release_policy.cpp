#include "app/memory_release_policy.h"

#if __has_include(<malloc.h>)
#include <malloc.h>
#endif

namespace heed::app {

void apply_memory_release_policy() {
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
  // Setting either threshold explicitly also turns glibc's dynamic
  // adjustment off.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
#endif
}

} // namespace heed::app
