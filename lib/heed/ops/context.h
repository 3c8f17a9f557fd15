// The oneDNN CPU engine and stream every op runs on, and the thread count.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <string>

namespace heed::ops {

struct Context {
  dnnl::engine engine;
  dnnl::stream stream;
};

// The process-wide CPU engine and the calling thread's in-order stream.
Context &context();

// Sets the number of OpenMP threads oneDNN uses on the calling thread (a new
// thread starts from OpenMP's default: every CPU, or OMP_NUM_THREADS). 0
// selects the number of physical cores. OptionError (field "threads") outside [0, max_threads()].
void set_num_threads(int threads);
// OptionError (field "threads") when set_num_threads would refuse `threads`.
void check_num_threads(int threads);
int num_threads(); // the calling thread's

// While alive and `serial` holds, oneDNN creates and runs primitives on the
// calling thread alone (it splits work over omp_get_max_threads() threads,
// read when a primitive is created or run). oneDNN splits even an 8 x 11
// softmax over every thread, and waking and joining the team costs ~5 us on
// a 2-core machine, ten times that softmax's work: a batch-1 decoding step
// ran ~60 such primitives. The ops decide by the size of the work, as heed's
// own loops do, and must create and run a primitive under the same decision
// (a primitive keeps the thread partitioning it was created with). The
// primitive caches look up outside the scope: they start over when the
// calling thread's count changes.
class SerialScope {
public:
  explicit SerialScope(bool serial);
  ~SerialScope();
  SerialScope(const SerialScope &) = delete;
  SerialScope &operator=(const SerialScope &) = delete;

private:
  int restore_ = 0; // the thread count to restore; 0 when nothing was changed
};
int physical_cores();
// CPUs this process may run on (its affinity mask).
int available_cpus();
// The largest thread count accepted: 4 x available_cpus(). More threads than
// that only slow matrix work down, and absurd counts crash libgomp or exhaust
// the process table.
int max_threads();

// "2.6.3 (commit N/A)": the oneDNN library this process runs on.
std::string onednn_version();
// The instruction set oneDNN's kernels dispatch to on this CPU ("AVX2",
// "AVX-512 VNNI", ...), as dnnl_get_effective_cpu_isa() reports it.
std::string cpu_isa();

} // namespace heed::ops
