#include "app/thread_wait_policy.h"

#include <unistd.h>

#include <cstdlib>

namespace heed::app {

void apply_thread_wait_policy(char **argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr)
    return;
  // Set before exec, so the new process sees it and does not loop.
  if (setenv("GOMP_SPINCOUNT", kDefaultSpinCount, 1) != 0)
    return;
  execv("/proc/self/exe", argv);
  // exec failed (no /proc?): carry on with libgomp's default.
}

} // namespace heed::app
