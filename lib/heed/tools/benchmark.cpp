#include "heed/tools/benchmark.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <sstream>

#include "heed/decoding/translator.h"

namespace heed {

std::vector<BenchmarkResult> run_benchmark(const std::shared_ptr<const MarianModel> &model,
                                           const std::vector<std::string> &lines,
                                           const BenchmarkOptions &options) {
  std::vector<BenchmarkResult> results;
  for (const auto &setting : options.settings) {
    TranslationOptions o;
    o.batch_size = setting.batch_size;
    o.beam_size = setting.beam_size;
    o.threads = options.threads;
    o.max_new_tokens = options.max_new_tokens;
    // One translator for all runs (warm buffers), unless batches get their own caps.
    std::optional<Translator> translator;
    if (options.max_length_ratio <= 0)
      translator.emplace(model, o);
    BenchmarkResult result;
    result.setting = setting;
    // With a length ratio, each sentence gets its own cap, so sentences are run
    // in groups of equal cap; otherwise the whole input goes in one call.
    for (int r = 0; r < options.runs; ++r) {
      BenchmarkRun run;
      const auto started = std::chrono::steady_clock::now();
      std::vector<Translation> translations;
      if (options.max_length_ratio > 0) {
        translations.reserve(lines.size());
        for (size_t begin = 0; begin < lines.size(); begin += setting.batch_size) {
          const size_t end = std::min(lines.size(), begin + setting.batch_size);
          int64_t longest = 1;
          for (size_t i = begin; i < end; ++i)
            longest = std::max<int64_t>(
                longest, static_cast<int64_t>(model->tokenizer->encode_source(lines[i]).size()));
          TranslationOptions capped = o;
          capped.max_new_tokens = std::min<int64_t>(
              options.max_new_tokens.value_or(INT64_MAX),
              std::max<int64_t>(1, static_cast<int64_t>(options.max_length_ratio * longest)));
          Translator batch_translator(model, capped);
          auto part = batch_translator.translate(
              std::vector<std::string>(lines.begin() + begin, lines.begin() + end));
          for (auto &t : part)
            translations.push_back(std::move(t));
        }
      } else {
        translations = translator->translate(lines);
      }
      run.seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      run.sentences = static_cast<int64_t>(lines.size());
      for (const auto &t : translations)
        if (!t.hypotheses.empty())
          run.target_tokens += static_cast<int64_t>(t.hypotheses[0].tokens.size());
      result.runs.push_back(run);
    }
    results.push_back(std::move(result));
  }
  return results;
}

namespace {

struct Summary {
  double median, min, max;
};

Summary summarise(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  const double median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return {median, values.front(), values.back()};
}

} // namespace

std::string format_benchmark(const std::vector<BenchmarkResult> &results, int threads) {
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof line, "%-22s %8s %28s %30s\n", "setting", "runs",
                "sentences/s median [min,max]", "target tokens/s median [min,max]");
  out << line;
  for (const auto &r : results) {
    std::vector<double> sps, tps;
    for (const auto &run : r.runs) {
      sps.push_back(run.sentences / run.seconds);
      tps.push_back(run.target_tokens / run.seconds);
    }
    const Summary s = summarise(sps), t = summarise(tps);
    char name[64];
    std::snprintf(name, sizeof name, "batch %lld %s", static_cast<long long>(r.setting.batch_size),
                  r.setting.beam_size == 1
                      ? "greedy"
                      : ("beam " + std::to_string(r.setting.beam_size)).c_str());
    std::snprintf(line, sizeof line, "%-22s %8zu %10.2f [%7.2f,%7.2f] %12.1f [%7.1f,%7.1f]\n", name,
                  r.runs.size(), s.median, s.min, s.max, t.median, t.min, t.max);
    out << line;
  }
  out << "threads: " << threads << '\n';
  return out.str();
}

} // namespace heed
