#include "heed/core/available_memory.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <string>

namespace heed {
namespace {

// A number read from the start of a file such as memory.max ("max" reads as
// none).
bool read_number(const std::string &path, int64_t &value) {
  std::ifstream in(path);
  long long v = 0;
  if (!(in >> v))
    return false;
  value = v;
  return true;
}

int64_t meminfo_available() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  long long kilobytes = 0;
  std::string unit;
  while (in >> key >> kilobytes) {
    std::getline(in, unit);
    if (key == "MemAvailable:")
      return static_cast<int64_t>(kilobytes) * 1024;
  }
  return INT64_MAX;
}

// cgroup v2: the process's group is the "0::/PATH" line of /proc/self/cgroup.
int64_t cgroup_room() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) != 0)
      continue;
    const std::string dir = "/sys/fs/cgroup" + line.substr(3);
    int64_t max = 0, current = 0;
    if (read_number(dir + "/memory.max", max) && read_number(dir + "/memory.current", current))
      return std::max<int64_t>(0, max - current);
  }
  return INT64_MAX;
}

int64_t address_space_room() {
  rlimit limit{};
  if (getrlimit(RLIMIT_AS, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return INT64_MAX;
  std::ifstream statm("/proc/self/statm");
  long long pages = 0;
  if (!(statm >> pages))
    return INT64_MAX;
  const int64_t used = static_cast<int64_t>(pages) * sysconf(_SC_PAGESIZE);
  return std::max<int64_t>(0, static_cast<int64_t>(limit.rlim_cur) - used);
}

} // namespace

int64_t available_memory_bytes() {
  return std::min({meminfo_available(), cgroup_room(), address_space_room()});
}

} // namespace heed
