#include "heed/tools/memory_bandwidth.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <string>

#include "heed/core/tensor.h"

namespace heed {

namespace {
// Sums with 16 independent lanes so the loop is bound by loads, not by one
// chain of additions.
float sum_lanes(const float *x, int64_t n) {
  float lanes[16] = {};
  for (int64_t i = 0; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j)
      lanes[j] += x[i + j];
  float s = 0;
  for (float l : lanes)
    s += l;
  return s;
}
} // namespace

double measure_read_bandwidth(int64_t bytes, int repeats) {
  const int64_t n = bytes / static_cast<int64_t>(sizeof(float));
  Tensor buffer({n});
  buffer.fill(1.f); // touch every page before timing
  double best = 0;
  volatile float sink = 0;
  for (int r = 0; r < repeats; ++r) {
    const auto started = std::chrono::steady_clock::now();
    float total = 0;
#pragma omp parallel for reduction(+ : total) schedule(static)
    for (int64_t chunk = 0; chunk < n; chunk += 1 << 16)
      total += sum_lanes(buffer.data() + chunk, std::min<int64_t>(1 << 16, n - chunk));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    sink = sink + total;
    best = std::max(best, static_cast<double>(n) * sizeof(float) / seconds);
  }
  return best;
}

int64_t current_rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

int64_t peak_rss_bytes() {
  // VmHWM rather than ru_maxrss: restart_peak_rss() lowers both, but only
  // /proc says so for certain on every kernel.
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::stoll(line.substr(6)) * 1024; // "VmHWM:   123456 kB"
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024; // KiB on Linux
}

bool restart_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

} // namespace heed
