// `heed bench`: how fast a model translates here, and how far from the memory
// bandwidth bound. For each compute type (float32, int8, bfloat16) and thread
// count: model load time and memory, encoder tokens/s, the batch-1 decoder step time
// against the time needed just to read its weights, and end-to-end
// sentences/s and target tokens/s for several batch/beam settings, each the
// median (and range) of repeated runs.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "heed/decoding/batching.h"
#include "heed/ops/compute_type.h"

namespace heed {

struct BenchmarkSetting {
  int64_t batch_size = 1;
  int64_t beam_size = 1;
  BatchType batch_type = BatchType::sentences;
  bool split_sentences = false; // translate each line sentence by sentence

  // "32x4" = 32 sentences, beam 4; "tokens:2048x4" = batches of 2048 tokens;
  // a "+split" suffix ("32x4+split") translates lines sentence by sentence.
  // Parses "BATCHxBEAM" or "tokens:BATCHxBEAM"; OptionError naming `what`
  // (the flag, for the command line) otherwise.
  static BenchmarkSetting parse(const std::string &text, const std::string &what = "setting");
  std::string name() const;
};

struct BenchmarkOptions {
  std::vector<BenchmarkSetting> settings{{1, 1}, {32, 4}};
  std::vector<ops::ComputeType> compute_types{ops::ComputeType::float32, ops::ComputeType::int8};
  std::vector<int> threads; // empty: 1 and the physical cores
  int runs = 5;
  std::optional<int64_t> max_new_tokens;
  // Caps generated tokens at ratio x the longest source tokens of a batch
  // (random-weight models run to the cap, so this sets the work); 0 = no cap.
  double max_length_ratio = 0;
  std::function<void(const std::string &)> progress; // one line per finished measurement
};

struct BenchmarkRun {
  double seconds = 0;
  int64_t sentences = 0;
  int64_t target_tokens = 0;
};

struct BenchmarkResult {
  BenchmarkSetting setting;
  std::vector<BenchmarkRun> runs;
  // The process's peak RSS while this setting ran (its warm-up included), in
  // bytes, or -1 where the kernel would not restart the peak before it.
  int64_t peak_rss = -1;
};

// Everything measured for one compute type and thread count.
struct BenchmarkFigures {
  ops::ComputeType compute_type = ops::ComputeType::float32;
  int threads = 1;
  std::vector<double> load_seconds; // per run
  int64_t packed_weight_bytes = 0;
  int64_t rss_after_load = 0;
  double read_bandwidth = 0;            // bytes/s with this many threads
  int64_t step_weight_bytes = 0;        // weights one decoder step multiplies by
  std::vector<double> encoder_tokens_s; // per run
  std::vector<double> step_seconds;     // per run: mean batch-1 decoder step
  std::vector<BenchmarkResult> end_to_end;
};

struct BenchmarkReport {
  std::string model_dir;
  // The model's shape in one line (d_model, layers, heads, ffn, activation,
  // vocabulary, weight dtype), e.g. to tell base and tc-big results apart.
  std::string shape;
  int64_t parameters = 0;
  int64_t lines = 0;
  int64_t source_tokens = 0;
  std::vector<BenchmarkFigures> figures;
  int64_t peak_rss = 0; // the whole process's
};

BenchmarkReport run_benchmark(const std::string &model_dir, const std::vector<std::string> &lines,
                              const BenchmarkOptions &options);

std::string format_benchmark(const BenchmarkReport &report);

} // namespace heed
