// The heed command line: parses options into the library's option structs and
// calls the library. Errors become one line on stderr and an exit code:
//   0 success, 1 internal error, 2 usage error (bad flag or value),
//   3 model error (missing/malformed model files), 4 input/output error.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "heed/core/error.h"
#include "heed/core/memory_release_policy.h"
#include "heed/decoding/streaming.h"
#include "heed/decoding/translator.h"
#include "heed/io/printable.h"
#include "heed/io/shards.h"
#include "heed/jobs/convert_job.h"
#include "heed/jobs/translate_job.h"
#include "heed/model/default_model.h"
#include "heed/model/marian_model.h"
#include "heed/ops/context.h"
#include "heed/ops/cpu_isa.h"
#include "heed/ops/thread_wait_policy.h"
#include "heed/outputs/model_info.h"
#include "heed/outputs/writers.h"
#include "heed/tools/benchmark.h"

namespace {

enum ExitCode { kOk = 0, kInternal = 1, kUsage = 2, kModel = 3, kIo = 4 };

// Error messages can quote what a user or a file supplied; escaping control
// characters keeps every error on one line of stderr.
std::string one_line(const std::string &message) { return heed::io::printable(message, 4096); }

// CLI11 reports a parse error on two lines ("Run with --help ..."); heed's
// errors are one line.
std::string usage_failure(const CLI::App *, const CLI::Error &e) {
  return "heed: error: " + one_line(e.what()) + " (see heed --help)\n";
}

// Whole numbers of at least `min`. CLI11's own range checks report "not in
// range 0.000000 to 1.797...e308", which names neither the limit nor the type.
CLI::Validator at_least(int64_t min) {
  return CLI::Validator(
      [min](std::string &value) -> std::string {
        size_t used = 0;
        long long n = 0;
        try {
          n = std::stoll(value, &used);
        } catch (const std::out_of_range &) {
          return "is out of range: " + value;
        } catch (const std::exception &) {
          used = 0;
        }
        if (used == 0 || used != value.size())
          return "must be a whole number, got '" + value + "'";
        if (n < min)
          return "must be at least " + std::to_string(min) + ", got " + value;
        return "";
      },
      min > 0 ? "POSITIVE" : "NONNEGATIVE");
}

// Non-negative real numbers, with a message to match at_least().
CLI::Validator non_negative_number() {
  return CLI::Validator(
      [](std::string &value) -> std::string {
        size_t used = 0;
        double x = 0;
        try {
          x = std::stod(value, &used);
        } catch (const std::exception &) {
          used = 0;
        }
        if (used == 0 || used != value.size())
          return "must be a number, got '" + value + "'";
        if (!(x >= 0))
          return "must be at least 0, got " + value;
        return "";
      },
      "NONNEGATIVE");
}

void add_decoding_options(CLI::App *cmd, heed::TranslationOptions &o,
                          std::optional<std::string> &early_stopping) {
  cmd->add_option("--beam-size,-b", o.beam_size,
                  "Beam size; 1 = greedy (default: num_beams of the model's generation config)")
      ->check(at_least(1));
  cmd->add_option("--n-best", o.n_best, "Hypotheses per sentence (at most the beam size)")
      ->check(at_least(1));
  cmd->add_option("--length-penalty", o.length_penalty,
                  "Exponent of the beam score length normalisation (default: the model's)");
  cmd->add_option("--early-stopping", early_stopping,
                  "Beam stopping rule as in transformers: false (heuristic), true, never")
      ->check(CLI::IsMember({"false", "true", "never"}));
  cmd->add_option("--max-length", o.max_length,
                  "Decoder length limit, start token included (default: the model's)")
      ->check(at_least(1));
  cmd->add_option("--max-new-tokens", o.max_new_tokens,
                  "Limit on generated tokens, EOS included; overrides --max-length")
      ->check(at_least(1));
  cmd->add_option("--max-length-ratio", o.max_length_ratio,
                  "Also cap each batch's generated tokens at RATIO x its longest source, in "
                  "tokens (default 0: off)")
      ->check(non_negative_number());
}

void add_compute_options(CLI::App *cmd, heed::TranslationOptions &o, std::string &batch_type) {
  cmd->add_option("--batch-size", o.batch_size,
                  "Sentences per batch, or padded source tokens with --batch-type tokens "
                  "(default 32)")
      ->check(at_least(1));
  cmd->add_option("--batch-type", batch_type, "Batch by sentences or by tokens")
      ->check(CLI::IsMember({"sentences", "tokens"}));
  cmd->add_option("--threads", o.threads, "Compute threads (default: physical cores)")
      ->check(at_least(0));
}

struct AttentionFlags {
  std::string kinds, layers, heads;
};

void add_attention_options(CLI::App *cmd, AttentionFlags &flags) {
  cmd->add_option("--attention-kind", flags.kinds,
                  "Attention to record: cross (default), encoder, decoder or all; "
                  "comma lists allowed");
  cmd->add_option("--attention-layers", flags.layers,
                  "Layers to keep: all (default), mean, max or indices like 0,-1");
  cmd->add_option("--attention-heads", flags.heads,
                  "Heads to keep: all (default), mean, max or indices like 0,3");
}

void apply_attention_flags(const AttentionFlags &flags, heed::AttentionRequest &request) {
  if (!flags.kinds.empty())
    request.set_kinds(flags.kinds);
  if (!flags.layers.empty())
    request.layers = heed::IndexSelection::parse(flags.layers, "--attention-layers");
  if (!flags.heads.empty())
    request.heads = heed::IndexSelection::parse(flags.heads, "--attention-heads");
}

void apply_early_stopping(const std::optional<std::string> &value, heed::TranslationOptions &o) {
  if (!value)
    return;
  o.early_stopping = *value == "true"    ? heed::EarlyStopping::always
                     : *value == "never" ? heed::EarlyStopping::never
                                         : heed::EarlyStopping::heuristic;
}

// -m is optional everywhere: heed falls back to $HEED_MODEL, then to the model
// shipped beside the binary (heed/model/default_model.h).
constexpr const char *kModelHelp =
    "Hugging Face MarianMT model directory (default: $HEED_MODEL, else the shipped "
    "multi30k-en-de model next to the heed binary)";

void add_compute_type_option(CLI::App *cmd, std::string &value) {
  cmd->add_option("--compute-type", value,
                  "Dense-layer arithmetic: float32, int8 (per-channel int8 weights), bfloat16 "
                  "(AVX512-BF16 or AMX only) or auto (default: the model's own, int8 or "
                  "bfloat16 for models written by heed convert --quantize, else float32)")
      ->check(CLI::IsMember({"float32", "int8", "bfloat16", "auto"}));
}

heed::LoadOptions load_options(const std::string &compute_type) {
  heed::LoadOptions o;
  if (compute_type == "float32")
    o.compute_type = heed::ops::ComputeType::float32;
  else if (compute_type == "int8")
    o.compute_type = heed::ops::ComputeType::int8;
  else if (compute_type == "bfloat16") {
    if (!heed::ops::has_bfloat16_kernels())
      throw heed::OptionError("--compute-type bfloat16: " +
                              heed::ops::bfloat16_unavailable_reason());
    o.compute_type = heed::ops::ComputeType::bfloat16;
  }
  return o;
}

void warn(const std::string &message) {
  std::cerr << "heed: warning: " << one_line(message) << '\n';
}

} // namespace

int main(int argc, char **argv) {
  heed::ops::apply_thread_wait_policy(argv);
  heed::apply_memory_release_policy();
  CLI::App app{"heed: translate with Marian (OPUS-MT) models on the CPU"};
  app.require_subcommand(1);
  app.footer("Exit codes: 0 success, 1 internal error, 2 usage error, 3 model error, "
             "4 input/output error.");
  app.failure_message(usage_failure);

  heed::TranslationOptions options;
  options.warn = warn;
  std::optional<std::string> early_stopping;
  std::string format = "text", batch_type = "sentences";

  heed::TranslateJob job;
  std::string shard;
  bool progress = false, no_progress = false;
  auto *translate = app.add_subcommand("translate", "Translate text, a file or standard input");
  translate->add_option("-m,--model", job.model_dir, kModelHelp);
  translate->add_option("text", job.texts,
                        "Sentences to translate (else the input file or standard input)");
  translate->add_option("-i,--input", job.input, "Input file, one sentence per line (- = stdin)");
  translate->add_option("-o,--output", job.output, "Output file (default: stdout)");
  translate->add_option("--format", format, "Output format: text or jsonl")
      ->check(CLI::IsMember({"text", "jsonl"}));
  add_decoding_options(translate, options, early_stopping);
  add_compute_options(translate, options, batch_type);
  std::string compute_type = "auto";
  add_compute_type_option(translate, compute_type);
  translate
      ->add_option("--window", job.window,
                   "Lines read ahead and sorted by length before batching (default: "
                   "max(256, 8 x batch size); 1024 with --batch-type tokens)")
      ->check(at_least(1));
  translate->add_flag("--resume", job.resume,
                      "Continue an interrupted run: keep the complete outputs in -o FILE and "
                      "translate the rest");
  translate->add_option("--shard", shard,
                        "Translate shard K/N of the input: lines K, K+N, K+2N, ... (0-based); "
                        "merge outputs with `heed merge-shards`");
  translate->add_flag("--strict", job.strict, "Reject invalid UTF-8 instead of replacing it");
  translate->add_flag("--progress", progress,
                      "Show the progress bar even when stderr is no "
                      "terminal");
  translate->add_flag("--no-progress", no_progress, "Never show the progress bar");
  translate->add_flag("-q,--quiet", job.quiet, "No summary line at the end");
  AttentionFlags attention_flags;
  std::string alignment;
  translate->add_option("--attention", job.attention_path,
                        "Write attention maps: a directory (.npy files + index.json), a .npz "
                        "archive or a .json file");
  add_attention_options(translate, attention_flags);
  translate->add_option("--alignment", alignment,
                        "Append word alignments after ' ||| ': hard, soft, or a threshold in "
                        "(0, 1]");

  heed::AttentionPageJob page_job;
  auto *attention = app.add_subcommand(
      "attention", "Translate a few sentences and write their attention maps as a web page");
  attention->add_option("-m,--model", page_job.model_dir, kModelHelp);
  attention->add_option("text", page_job.texts, "Sentences (else --input)");
  attention->add_option("-i,--input", page_job.input, "File of sentences (at most 200)");
  attention->add_option("--html", page_job.html_path, "The page to write")->required();
  attention->add_option("--attention", page_job.attention_path,
                        "Also write the arrays (directory, .npz or .json)");
  add_attention_options(attention, attention_flags);
  add_decoding_options(attention, options, early_stopping);
  add_compute_type_option(attention, compute_type);

  heed::ScoreJob score_job;
  auto *score = app.add_subcommand("score", "Log-probabilities of given translations");
  score->add_option("-m,--model", score_job.model_dir, kModelHelp);
  score->add_option("--source", score_job.source, "Source sentences, one per line")->required();
  score->add_option("--target", score_job.target, "Target sentences, one per line")->required();
  score->add_option("-o,--output", score_job.output, "Output file (default: stdout)");
  score->add_option("--format", format, "Output format: text or jsonl")
      ->check(CLI::IsMember({"text", "jsonl"}));
  add_compute_options(score, options, batch_type);
  add_compute_type_option(score, compute_type);

  std::string info_model;
  bool info_json = false;
  auto *info = app.add_subcommand("info", "Describe a model");
  info->add_option("-m,--model", info_model, kModelHelp);
  info->add_flag("--json", info_json, "Print JSON");
  add_compute_type_option(info, compute_type);

  std::string bench_model, bench_input;
  heed::BenchmarkOptions bench_options;
  int64_t bench_lines = 200;
  std::vector<std::string> bench_settings, bench_types;
  auto *bench = app.add_subcommand(
      "bench", "Measure speed: encoder, decoder step vs the memory bandwidth bound, end to end");
  bench->add_option("-m,--model", bench_model, kModelHelp);
  bench->add_option("-i,--input", bench_input, "Sentences to translate")->required();
  bench->add_option("--lines", bench_lines, "Use the first N lines")->check(at_least(1));
  bench->add_option("--runs", bench_options.runs, "Runs per measurement (median reported)")
      ->check(at_least(1));
  bench
      ->add_option("--threads", bench_options.threads,
                   "Thread counts to measure (default: 1 and the physical cores)")
      ->delimiter(',')
      ->check(at_least(1));
  bench
      ->add_option("--compute-type", bench_types,
                   "Compute types to measure: float32, int8, bfloat16 (default: float32,int8)")
      ->delimiter(',')
      ->check(CLI::IsMember({"float32", "int8", "bfloat16"}));
  bench
      ->add_option("--settings", bench_settings,
                   "End-to-end settings BATCHxBEAM, comma-separated; tokens:NxBEAM batches by "
                   "tokens (default: 1x1,32x4)")
      ->delimiter(',');
  bench->add_option("--max-new-tokens", bench_options.max_new_tokens, "Generated tokens limit")
      ->check(at_least(1));
  bench
      ->add_option("--max-length-ratio", bench_options.max_length_ratio,
                   "Cap each batch's generated tokens at RATIO x its longest source (in tokens)")
      ->check(non_negative_number());

  heed::ConvertJob convert_job;
  std::string quantize;
  auto *convert = app.add_subcommand(
      "convert",
      "Write a copy of a model with int8 or bfloat16 weights (same Hugging Face layout)");
  convert->add_option("-m,--model", convert_job.model_dir, kModelHelp);
  convert->add_option("--quantize", quantize, "Weight type to write: int8 or bfloat16")
      ->required()
      ->check(CLI::IsMember({"int8", "bfloat16"}));
  convert->add_option("-o,--output", convert_job.output_dir, "New model directory")->required();

  std::vector<std::string> shard_files;
  int64_t lines_per_input = 1;
  auto *merge = app.add_subcommand(
      "merge-shards", "Interleave the outputs of --shard 0/N ... N-1/N into one, to stdout");
  merge->add_option("files", shard_files, "Shard outputs, shard 0 first")->required();
  merge
      ->add_option("--lines-per-input", lines_per_input,
                   "Output lines per input (the n-best size for text n-best lists)")
      ->check(at_least(1));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? kOk : kUsage;
  }

  try {
    apply_early_stopping(early_stopping, options);
    options.batch_type = heed::parse_batch_type(batch_type);
    if (*translate) {
      job.model_dir = heed::resolve_model_dir(job.model_dir);
      job.load = load_options(compute_type);
      job.options = options;
      job.format = heed::parse_output_format(format);
      if (!shard.empty())
        job.shard = heed::io::parse_shard(shard);
      if (progress && no_progress)
        throw heed::OptionError("--progress and --no-progress contradict each other");
      if (progress || no_progress)
        job.progress = progress;
      apply_attention_flags(attention_flags, job.options.attention);
      if (!alignment.empty())
        job.alignment = heed::AlignmentFormat::parse(alignment);
      heed::run_translate(job);
    } else if (*attention) {
      page_job.model_dir = heed::resolve_model_dir(page_job.model_dir);
      page_job.load = load_options(compute_type);
      page_job.options = options;
      apply_attention_flags(attention_flags, page_job.options.attention);
      heed::run_attention_page(page_job);
    } else if (*score) {
      score_job.model_dir = heed::resolve_model_dir(score_job.model_dir);
      score_job.load = load_options(compute_type);
      score_job.options = options;
      score_job.format = heed::parse_output_format(format);
      heed::run_score(score_job);
    } else if (*info) {
      auto model =
          heed::MarianModel::load(heed::resolve_model_dir(info_model), load_options(compute_type));
      auto description = heed::model_info(*model);
      // How this process computes: what a slow run on a shared machine is checked against.
      auto env = [](const char *name) -> nlohmann::json {
        const char *value = std::getenv(name);
        return value ? nlohmann::json(value) : nlohmann::json(nullptr);
      };
      description["runtime"] = {{"threads", heed::ops::num_threads()},
                                {"physical_cores", heed::ops::physical_cores()},
                                {"GOMP_SPINCOUNT", env("GOMP_SPINCOUNT")},
                                {"OMP_WAIT_POLICY", env("OMP_WAIT_POLICY")}};
      std::cout << (info_json ? description.dump(2) + "\n" : heed::format_model_info(description));
    } else if (*bench) {
      auto lines = heed::read_text_lines(bench_input, warn);
      if (static_cast<int64_t>(lines.size()) > bench_lines)
        lines.resize(bench_lines);
      bench_model = heed::resolve_model_dir(bench_model);
      if (!bench_settings.empty()) {
        bench_options.settings.clear();
        for (const auto &s : bench_settings)
          bench_options.settings.push_back(heed::BenchmarkSetting::parse(s));
      }
      if (!bench_types.empty()) {
        bench_options.compute_types.clear();
        for (const auto &t : bench_types)
          bench_options.compute_types.push_back(load_options(t).compute_type.value());
      }
      bench_options.progress = [](const std::string &line) {
        std::cerr << "heed bench: " << line << '\n';
      };
      std::cout << heed::format_benchmark(heed::run_benchmark(bench_model, lines, bench_options));
    } else if (*convert) {
      convert_job.model_dir = heed::resolve_model_dir(convert_job.model_dir);
      convert_job.quantize =
          quantize == "bfloat16" ? heed::ops::ComputeType::bfloat16 : heed::ops::ComputeType::int8;
      const auto report = heed::run_convert(convert_job);
      std::cout << heed::format_convert_report(convert_job, report);
    } else if (*merge) {
      heed::io::merge_shards(shard_files, std::cout, lines_per_input);
      std::cout.flush();
      if (!std::cout)
        throw heed::IoError("standard output: write error");
    }
  } catch (const heed::OptionError &e) {
    std::cerr << "heed: error: " << one_line(e.what()) << '\n';
    return kUsage;
  } catch (const heed::ModelError &e) {
    std::cerr << "heed: model error: " << one_line(e.what()) << '\n';
    return kModel;
  } catch (const heed::IoError &e) {
    std::cerr << "heed: error: " << one_line(e.what()) << '\n';
    return kIo;
  } catch (const std::exception &e) {
    std::cerr << "heed: internal error: " << one_line(e.what()) << '\n';
    return kInternal;
  }
  return kOk;
}
