// `heed bench`: end-to-end translation throughput of a model on a set of lines,
// for several batch/beam settings, as the median (and range) of repeated runs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "heed/model/marian_model.h"

namespace heed {

struct BenchmarkSetting {
  int64_t batch_size = 1;
  int64_t beam_size = 1;
};

struct BenchmarkOptions {
  std::vector<BenchmarkSetting> settings{{1, 1}, {32, 4}};
  int runs = 5;
  int threads = 0;
  std::optional<int64_t> max_new_tokens;
  // Caps generated tokens at ratio * source tokens (random-weight models run to
  // the cap, so this sets the work); 0 = no cap beyond max_new_tokens.
  double max_length_ratio = 0;
};

struct BenchmarkRun {
  double seconds = 0;
  int64_t sentences = 0;
  int64_t target_tokens = 0;
};

struct BenchmarkResult {
  BenchmarkSetting setting;
  std::vector<BenchmarkRun> runs;
};

std::vector<BenchmarkResult> run_benchmark(const std::shared_ptr<const MarianModel> &model,
                                           const std::vector<std::string> &lines,
                                           const BenchmarkOptions &options);

// A table with sentences/s and target tokens/s: median [min, max] per setting.
std::string format_benchmark(const std::vector<BenchmarkResult> &results, int threads);

} // namespace heed
