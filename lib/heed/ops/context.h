// The oneDNN CPU engine and stream every op runs on, and the thread count.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <string>

namespace heed::ops {

struct Context {
  dnnl::engine engine;
  dnnl::stream stream;
};

// The process-wide CPU engine and its in-order stream.
Context &context();

// Sets the number of OpenMP threads oneDNN uses. 0 selects the number of
// physical cores.
void set_num_threads(int threads);
int num_threads();
int physical_cores();

// "2.6.3 (commit N/A)": the oneDNN library this process runs on.
std::string onednn_version();
// The instruction set oneDNN's kernels dispatch to on this CPU ("AVX2",
// "AVX-512 VNNI", ...), as dnnl_get_effective_cpu_isa() reports it.
std::string cpu_isa();

} // namespace heed::ops
