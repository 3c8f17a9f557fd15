#include "heed/ops/context.h"

#include <omp.h>
#include <sched.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "heed/core/error.h"

namespace heed::ops {

namespace {

dnnl::engine &cpu_engine() {
  static dnnl::engine engine = [] {
    // heed keeps every primitive it runs in its own bounded caches
    // (primitive_cache.h); oneDNN's global cache (1,024 primitives by
    // default) would keep a second copy of each, evicted shapes included, and
    // made the memory of a long run of varied batches grow by a further 10%.
    // An explicit ONEDNN_PRIMITIVE_CACHE_CAPACITY still wins.
    if (std::getenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY") == nullptr &&
        std::getenv("DNNL_PRIMITIVE_CACHE_CAPACITY") == nullptr)
      dnnl::set_primitive_cache_capacity(0);
    return dnnl::engine(dnnl::engine::kind::cpu, 0);
  }();
  return engine;
}

} // namespace

Context &context() {
  // One stream per thread: translator workers (decoding/batch_workers.h)
  // execute primitives side by side.
  thread_local Context ctx{cpu_engine(), dnnl::stream(cpu_engine())};
  return ctx;
}

int physical_cores() {
  // Count distinct (physical id, core id) pairs: hyper-threads share a core and
  // only slow each other down on matrix work.
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::set<std::pair<std::string, std::string>> cores;
  std::string line, physical, core;
  while (std::getline(cpuinfo, line)) {
    auto value = [&] { return line.substr(line.find(':') + 1); };
    if (line.rfind("physical id", 0) == 0)
      physical = value();
    else if (line.rfind("core id", 0) == 0) {
      core = value();
      cores.emplace(physical, core);
    }
  }
  if (!cores.empty())
    return static_cast<int>(cores.size());
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

int available_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return CPU_COUNT(&set);
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

int max_threads() { return 4 * available_cpus(); }

void check_num_threads(int threads) {
  const int most = max_threads();
  if (threads < 0 || threads > most)
    throw OptionError("threads", "must be in [0, " + std::to_string(most) +
                                     "] (0: the physical cores; at most 4 x the " +
                                     std::to_string(available_cpus()) + " CPUs available), got " +
                                     std::to_string(threads));
}

void set_num_threads(int threads) {
  check_num_threads(threads);
  omp_set_num_threads(threads > 0 ? threads : physical_cores());
}

int num_threads() { return omp_get_max_threads(); }

SerialScope::SerialScope(bool serial) {
  const int threads = omp_get_max_threads();
  if (serial && threads > 1) {
    restore_ = threads;
    omp_set_num_threads(1);
  }
}

SerialScope::~SerialScope() {
  if (restore_ > 0)
    omp_set_num_threads(restore_);
}

std::string onednn_version() {
  const dnnl_version_t *v = dnnl_version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->patch) + " (commit " + v->hash + ")";
}

std::string cpu_isa() {
  switch (dnnl_get_effective_cpu_isa()) {
  case dnnl_cpu_isa_sse41:
    return "SSE4.1";
  case dnnl_cpu_isa_avx:
    return "AVX";
  case dnnl_cpu_isa_avx2:
    return "AVX2";
  case dnnl_cpu_isa_avx2_vnni:
    return "AVX2 VNNI";
  case dnnl_cpu_isa_avx512_mic:
  case dnnl_cpu_isa_avx512_mic_4ops:
    return "AVX-512 (Xeon Phi)";
  case dnnl_cpu_isa_avx512_core:
    return "AVX-512";
  case dnnl_cpu_isa_avx512_core_vnni:
    return "AVX-512 VNNI";
  case dnnl_cpu_isa_avx512_core_bf16:
    return "AVX-512 BF16";
  case dnnl_cpu_isa_avx512_core_amx:
    return "AVX-512 AMX";
  default:
    return "unknown (oneDNN ISA code " +
           std::to_string(static_cast<int>(dnnl_get_effective_cpu_isa())) + ")";
  }
}

} // namespace heed::ops
