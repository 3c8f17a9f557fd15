// The heed command line: parses options into the library's option structs and
// calls the library. Errors become one line on stderr and an exit code:
//   0 success, 1 internal error, 2 usage error (bad flag or value),
//   3 model error (missing/malformed model files), 4 input/output error.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "heed/core/error.h"
#include "heed/decoding/streaming.h"
#include "heed/decoding/translator.h"
#include "heed/model/marian_model.h"
#include "heed/ops/context.h"
#include "heed/outputs/model_info.h"
#include "heed/outputs/writers.h"
#include "heed/tools/benchmark.h"

namespace {

enum ExitCode { kOk = 0, kInternal = 1, kUsage = 2, kModel = 3, kIo = 4 };

struct Io {
  std::string input, output;
};

std::istream &open_input(const std::string &path, std::ifstream &file) {
  if (path.empty() || path == "-")
    return std::cin;
  file.open(path, std::ios::binary);
  if (!file)
    throw heed::IoError(path + ": cannot open for reading");
  return file;
}

std::ostream &open_output(const std::string &path, std::ofstream &file) {
  if (path.empty() || path == "-")
    return std::cout;
  file.open(path, std::ios::binary | std::ios::trunc);
  if (!file)
    throw heed::IoError(path + ": cannot open for writing");
  return file;
}

std::vector<std::string> read_all_lines(const std::string &path) {
  std::ifstream file;
  std::istream &in = open_input(path, file);
  std::vector<std::string> lines;
  std::string line;
  while (heed::read_line(in, line))
    lines.push_back(line);
  if (in.bad())
    throw heed::IoError(path + ": read error");
  return lines;
}

void check_written(std::ostream &out, const std::string &path) {
  out.flush();
  if (!out)
    throw heed::IoError((path.empty() || path == "-" ? std::string("standard output") : path) +
                        ": write error");
}

void add_decoding_options(CLI::App *cmd, heed::TranslationOptions &o,
                          std::optional<std::string> &early_stopping) {
  cmd->add_option("--beam-size,-b", o.beam_size,
                  "Beam size; 1 = greedy (default: num_beams of the model's generation config)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--n-best", o.n_best, "Hypotheses per sentence (at most the beam size)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--length-penalty", o.length_penalty,
                  "Exponent of the beam score length normalisation (default: the model's)");
  cmd->add_option("--early-stopping", early_stopping,
                  "Beam stopping rule as in transformers: false (heuristic), true, never")
      ->check(CLI::IsMember({"false", "true", "never"}));
  cmd->add_option("--max-length", o.max_length,
                  "Decoder length limit, start token included (default: the model's)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-new-tokens", o.max_new_tokens,
                  "Limit on generated tokens, EOS included; overrides --max-length")
      ->check(CLI::PositiveNumber);
}

void add_compute_options(CLI::App *cmd, heed::TranslationOptions &o) {
  cmd->add_option("--batch-size", o.batch_size, "Sentences per batch")->check(CLI::PositiveNumber);
  cmd->add_option("--threads", o.threads, "Compute threads (default: physical cores)")
      ->check(CLI::NonNegativeNumber);
}

void apply_early_stopping(const std::optional<std::string> &value, heed::TranslationOptions &o) {
  if (!value)
    return;
  o.early_stopping = *value == "true"    ? heed::EarlyStopping::always
                     : *value == "never" ? heed::EarlyStopping::never
                                         : heed::EarlyStopping::heuristic;
}

void warn(const std::string &message) { std::cerr << "heed: warning: " << message << '\n'; }

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"heed: translate with Marian (OPUS-MT) models on the CPU"};
  app.require_subcommand(1);
  app.footer("Exit codes: 0 success, 1 internal error, 2 usage error, 3 model error, "
             "4 input/output error.");

  std::string model_dir;
  heed::TranslationOptions options;
  options.warn = warn;
  std::optional<std::string> early_stopping;
  Io io;
  std::string format = "text";
  std::vector<std::string> texts;

  auto *translate = app.add_subcommand("translate", "Translate text, a file or standard input");
  translate->add_option("-m,--model", model_dir, "Hugging Face MarianMT model directory")
      ->required();
  translate->add_option("text", texts, "Sentences to translate (else the input file or stdin)");
  translate->add_option("-i,--input", io.input, "Input file, one sentence per line (- = stdin)");
  translate->add_option("-o,--output", io.output, "Output file (default: stdout)");
  translate->add_option("--format", format, "Output format: text or jsonl")
      ->check(CLI::IsMember({"text", "jsonl"}));
  add_decoding_options(translate, options, early_stopping);
  add_compute_options(translate, options);

  std::string source_path, target_path;
  auto *score = app.add_subcommand("score", "Log-probabilities of given translations");
  score->add_option("-m,--model", model_dir, "Model directory")->required();
  score->add_option("--source", source_path, "Source sentences, one per line")->required();
  score->add_option("--target", target_path, "Target sentences, one per line")->required();
  score->add_option("-o,--output", io.output, "Output file (default: stdout)");
  score->add_option("--format", format, "Output format: text or jsonl")
      ->check(CLI::IsMember({"text", "jsonl"}));
  add_compute_options(score, options);

  bool info_json = false;
  auto *info = app.add_subcommand("info", "Describe a model");
  info->add_option("-m,--model", model_dir, "Model directory")->required();
  info->add_flag("--json", info_json, "Print JSON");

  heed::BenchmarkOptions bench_options;
  int64_t bench_lines = 200;
  auto *bench = app.add_subcommand("bench", "Measure translation speed");
  bench->add_option("-m,--model", model_dir, "Model directory")->required();
  bench->add_option("-i,--input", io.input, "Sentences to translate")->required();
  bench->add_option("--lines", bench_lines, "Use the first N lines")->check(CLI::PositiveNumber);
  bench->add_option("--runs", bench_options.runs, "Runs per setting (median reported)")
      ->check(CLI::PositiveNumber);
  bench->add_option("--threads", bench_options.threads, "Compute threads (default: physical cores)")
      ->check(CLI::NonNegativeNumber);
  bench->add_option("--max-new-tokens", bench_options.max_new_tokens, "Generated tokens limit")
      ->check(CLI::PositiveNumber);
  bench
      ->add_option("--max-length-ratio", bench_options.max_length_ratio,
                   "Cap generated tokens at RATIO x source tokens per batch")
      ->check(CLI::NonNegativeNumber);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? kOk : kUsage;
  }

  try {
    apply_early_stopping(early_stopping, options);
    if (*translate) {
      if (!texts.empty() && !io.input.empty())
        throw heed::OptionError("give sentences as arguments or --input, not both");
      const auto output_format = heed::parse_output_format(format);
      auto model = heed::MarianModel::load(model_dir);
      heed::Translator translator(model, options);
      std::ofstream out_file;
      std::ostream &out = open_output(io.output, out_file);
      auto writer = heed::make_translation_writer(output_format, out, options.n_best);
      if (!texts.empty()) {
        const auto translations = translator.translate(texts);
        for (size_t i = 0; i < texts.size(); ++i)
          writer->write(static_cast<int64_t>(i), texts[i], translations[i]);
      } else {
        std::ifstream in_file;
        std::istream &in = open_input(io.input, in_file);
        // A person typing wants each line back at once; files go in windows.
        const bool interactive = io.input.empty() && isatty(STDIN_FILENO);
        const int64_t window = interactive ? 1 : 16 * options.batch_size;
        heed::translate_stream(translator, in, *writer, out, window);
        if (in.bad())
          throw heed::IoError((io.input.empty() ? std::string("standard input") : io.input) +
                              ": read error");
      }
      check_written(out, io.output);
    } else if (*score) {
      const auto output_format = heed::parse_output_format(format);
      const auto sources = read_all_lines(source_path);
      const auto targets = read_all_lines(target_path);
      if (sources.size() != targets.size())
        throw heed::IoError(source_path + " has " + std::to_string(sources.size()) + " lines but " +
                            target_path + " has " + std::to_string(targets.size()));
      auto model = heed::MarianModel::load(model_dir);
      heed::Translator translator(model, options);
      const auto scored = translator.score(sources, targets);
      std::ofstream out_file;
      std::ostream &out = open_output(io.output, out_file);
      for (size_t i = 0; i < scored.size(); ++i)
        heed::write_score(output_format, out, static_cast<int64_t>(i), sources[i], targets[i],
                          scored[i]);
      check_written(out, io.output);
    } else if (*info) {
      auto model = heed::MarianModel::load(model_dir);
      const auto description = heed::model_info(*model);
      std::cout << (info_json ? description.dump(2) + "\n" : heed::format_model_info(description));
    } else if (*bench) {
      auto lines = read_all_lines(io.input);
      if (static_cast<int64_t>(lines.size()) > bench_lines)
        lines.resize(bench_lines);
      auto model = heed::MarianModel::load(model_dir);
      std::cout << "model: " << model_dir << " (" << model->parameter_count
                << " parameters, loaded in " << model->load_seconds << " s)\n"
                << "input: " << lines.size() << " lines of " << io.input << "\n";
      const auto results = heed::run_benchmark(model, lines, bench_options);
      std::cout << heed::format_benchmark(results, heed::ops::num_threads());
    }
  } catch (const heed::OptionError &e) {
    std::cerr << "heed: error: " << e.what() << '\n';
    return kUsage;
  } catch (const heed::ModelError &e) {
    std::cerr << "heed: model error: " << e.what() << '\n';
    return kModel;
  } catch (const heed::IoError &e) {
    std::cerr << "heed: error: " << e.what() << '\n';
    return kIo;
  } catch (const std::exception &e) {
    std::cerr << "heed: internal error: " << e.what() << '\n';
    return kInternal;
  }
  return kOk;
}
