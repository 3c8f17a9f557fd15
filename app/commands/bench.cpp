// heed bench: encoder, decoder step against the memory bandwidth bound, and
// end-to-end speed (heed/tools/benchmark.h).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "app/commands/commands.h"
#include "app/default_model.h"
#include "app/options.h"
#include "heed/core/error.h"
#include "heed/io/input_file.h"
#include "heed/jobs/line_source.h"
#include "heed/ops/context.h"
#include "heed/tools/benchmark.h"

namespace heed::app {
namespace {

struct BenchFlags {
  std::string model_dir, input;
  BenchmarkOptions options;
  int64_t lines = 200;
  std::vector<std::string> settings, compute_types;
};

void run(BenchFlags &f) {
  const std::string model_dir = single_model_dir(f.model_dir, "bench");
  BenchmarkOptions &options = f.options;
  if (!f.settings.empty()) {
    options.settings.clear();
    for (const auto &s : f.settings)
      options.settings.push_back(BenchmarkSetting::parse(s, "--settings"));
  }
  if (!f.compute_types.empty()) {
    options.compute_types.clear();
    for (const auto &t : f.compute_types)
      options.compute_types.push_back(load_options(t).compute_type.value());
  }
  for (int threads : options.threads)
    ops::check_num_threads(threads);
  // Every option is checked before the input is read.
  const auto lines = read_lines(f.input, warn, f.lines); // the rest is never read
  if (lines.empty())
    throw IoError((io::is_standard_stream(f.input) ? std::string("standard input") : f.input) +
                  ": no lines to translate");
  options.progress = [](const std::string &line) { std::cerr << "heed bench: " << line << '\n'; };
  std::cout << format_benchmark(run_benchmark(model_dir, lines, options));
}

} // namespace

Command add_bench_command(CLI::App &app) {
  auto f = std::make_shared<BenchFlags>();
  auto *cmd = app.add_subcommand(
      "bench", "Measure speed: encoder, decoder step vs the memory bandwidth bound, end to end");
  add_model_option(cmd, f->model_dir);
  cmd->add_option("-i,--input", f->input, "Sentences to translate")->required();
  cmd->add_option("--lines", f->lines, "Use the first N lines (default 200)")->check(at_least(1));
  cmd->add_option("--runs", f->options.runs,
                  "Runs per measurement, the median reported (default " +
                      std::to_string(f->options.runs) + ")")
      ->check(at_least(1));
  cmd->add_option("--threads,--cpu-threads", f->options.threads,
                  "Thread counts to measure (default: 1 and the physical cores)")
      ->delimiter(',')
      ->check(at_least(1));
  cmd->add_option("--compute-type", f->compute_types,
                  "Compute types to measure: float32, int8, bfloat16 (default: float32,int8)")
      ->delimiter(',')
      ->check(CLI::IsMember({"float32", "int8", "bfloat16"}));
  cmd->add_option("--settings", f->settings,
                  "End-to-end settings BATCHxBEAM, comma-separated; tokens:NxBEAM batches by "
                  "tokens, a +split suffix splits lines into sentences (default: 1x1,32x4)")
      ->delimiter(',');
  cmd->add_option("--max-new-tokens,--max-decoding-length", f->options.max_new_tokens,
                  "Generated tokens limit, EOS included (default: the model's length limit)")
      ->check(at_least(1));
  cmd->add_option("--max-length-ratio,--max-length-factor", f->options.max_length_ratio,
                  "Cap each sentence's generated tokens at RATIO x its source, in tokens "
                  "(default 0: off)")
      ->check(non_negative_number());
  return {cmd, [f] { run(*f); }};
}

} // namespace heed::app
