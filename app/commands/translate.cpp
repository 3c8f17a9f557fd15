// heed translate: sentences, a file or standard input through the translate
// loop (heed/jobs/translate_job.h).
#include <algorithm>
#include <iostream>
#include <memory>
#include <string>

#include "app/commands/commands.h"
#include "app/default_model.h"
#include "app/interrupt_policy.h"
#include "app/options.h"
#include "heed/core/error.h"
#include "heed/io/input_file.h"
#include "heed/io/shards.h"
#include "heed/jobs/translate_job.h"
#include "heed/ops/context.h"
#include "heed/outputs/attention_writer.h"

namespace heed::app {
namespace {

struct TranslateFlags {
  TranslateJob job;
  DecodingFlags decoding;
  ComputeFlags compute;
  AttentionFlags attention;
  EnsembleFlags ensemble;
  std::string format = "text", compute_type = "auto", shard, alignment;
  std::optional<int64_t> maxi_batch;
  bool progress = false, no_progress = false;
};

void run(TranslateFlags &f) {
  TranslateJob &job = f.job;
  if (!job.texts.empty() && !io::is_standard_stream(job.input))
    throw OptionError("give sentences as arguments or --input, not both");
  if (job.resume && io::is_standard_stream(job.output))
    throw OptionError("--resume needs an output file (-o FILE)");
  if (job.resume && !job.texts.empty())
    throw OptionError("--resume applies to an input file or standard input, not to arguments");
  if (f.progress && f.no_progress)
    throw OptionError("--progress and --no-progress contradict each other");
  if (f.progress && job.quiet)
    throw OptionError("--progress and --quiet contradict each other");
  // Attention flags choose what --attention or --alignment records; alone
  // they would record nothing.
  if (job.attention_path.empty() && f.alignment.empty() && !f.attention.first_given().empty())
    throw OptionError(f.attention.first_given() + " applies only with --attention or --alignment");
  if (job.attention_path.empty() && !f.attention.kinds.empty())
    throw OptionError("--attention-kind applies only with --attention (--alignment always uses "
                      "cross-attention)");
  apply_decoding_flags(f.decoding, job.options);
  apply_compute_flags(f.compute, job.options);
  // --threads 0 shares the physical cores out among the workers.
  if (f.compute.threads == 0 && job.options.workers > 1)
    ops::set_num_threads(
        std::max<int>(1, ops::physical_cores() /
                             static_cast<int>(std::min<int64_t>(job.options.workers, 1 << 20))));
  if (f.maxi_batch) {
    if (job.options.batch_type == BatchType::tokens)
      throw OptionError("--maxi-batch counts batches of sentences; with --batch-type tokens give "
                        "--window LINES");
    if (job.window > 0)
      throw OptionError("--maxi-batch and --window set the same thing: give one");
    job.window = *f.maxi_batch * job.options.batch_size;
  }
  if (job.quiet)
    silence_warnings();
  job.options.warn = warn;
  apply_ensemble_flags(f.ensemble, job.model_dir, job.ensemble_dirs, job.options);
  job.load = load_options(f.compute_type);
  job.format = parse_output_format(f.format, "--format");
  if (!f.shard.empty())
    job.shard = io::parse_shard(f.shard, "--shard");
  if (f.progress || f.no_progress)
    job.progress = f.progress;
  apply_attention_flags(f.attention, job.options.attention);
  if (!job.attention_path.empty())
    attention_file_format(job.attention_path, "--attention");
  if (!f.alignment.empty())
    job.alignment = AlignmentFormat::parse(f.alignment, "--alignment");
  job.interrupted = interrupt_flag();
  const TranslateResult result = run_translate(job);
  if (result.interrupted) {
    // Every output line of the lines counted here is complete (the translate
    // loop writes whole windows): say so, and how to go on.
    const bool file = !io::is_standard_stream(job.output);
    // Archives of attention maps are written whole at the end: such a run
    // cannot be resumed (jobs/translate_job.h).
    const bool archive = !job.attention_path.empty() && attention_file_format(job.attention_path) !=
                                                            AttentionFileFormat::directory;
    std::cerr << "heed: interrupted: " << (file ? job.output : std::string("standard output"))
              << " holds the complete outputs of " << result.complete << " input line"
              << (result.complete == 1 ? "" : "s") << (job.shard.count > 1 ? " of the shard" : "")
              << (archive ? "; " + job.attention_path +
                                " is written whole at the end: run the command again (with "
                                "--attention DIR/, a run can be resumed)"
                  : file              ? "; the same command with --resume translates the rest"
                  : job.texts.empty() ? "; with -o FILE --resume, a run can be continued"
                                      : "")
              << '\n';
    throw Interrupted();
  }
}

} // namespace

Command add_translate_command(CLI::App &app) {
  auto f = std::make_shared<TranslateFlags>();
  TranslateJob &job = f->job;
  auto *cmd = app.add_subcommand("translate", "Translate text, a file or standard input");
  add_ensemble_options(cmd, f->ensemble);
  cmd->add_option("text", job.texts,
                  "Sentences to translate (default: the input file or standard input)");
  cmd->add_option("-i,--input", job.input,
                  "Input file, one sentence per line (default: standard input; - = stdin)");
  cmd->add_option("-o,--output", job.output,
                  "Output file; its directory must exist (default: standard output)");
  add_format_option(cmd, f->format);
  add_decoding_options(cmd, job.options, f->decoding);
  add_sentence_options(cmd, job.options);
  add_target_language_option(cmd, job.options);
  add_compute_options(cmd, job.options, f->compute);
  add_compute_type_option(cmd, f->compute_type);
  cmd->add_option("--workers", job.options.workers,
                  "Batches translated side by side, each on --threads threads (with --threads 0: "
                  "the physical cores shared out), sharing one copy of the model; workers x "
                  "threads at most 4 x the CPUs available; outputs do not depend on it (default 1; "
                  "README \"Many cores\")")
      ->check(at_least(1));
  auto *window = cmd->add_option("--window", job.window,
                                 "Lines read ahead and sorted by length before batching "
                                 "(default: max(256, 8 x batch size); 1024 with --batch-type "
                                 "tokens)")
                     ->check(at_least(1));
  cmd->add_option("--maxi-batch", f->maxi_batch,
                  "Marian's spelling of the window, counted in batches: --window N x "
                  "--batch-size (default: see --window)")
      ->check(at_least(1))
      ->excludes(window);
  cmd->add_flag("--resume", job.resume,
                "Continue an interrupted run: keep the complete outputs in -o FILE and "
                "translate the rest");
  cmd->add_option("--shard", f->shard,
                  "Translate shard K/N of the input lines (or of the sentences given as "
                  "arguments): lines K, K+N, K+2N, ... (0-based); merge outputs with `heed "
                  "merge-shards` (default: all lines)");
  cmd->add_flag("--strict", job.strict,
                "Reject invalid UTF-8 and NUL bytes instead of replacing them");
  cmd->add_flag("--progress", f->progress,
                "Show the progress bar even when stderr is no terminal (default: on a terminal, "
                "unless a person types the input there)");
  cmd->add_flag("--no-progress", f->no_progress, "Never show the progress bar");
  // Not in the help: heed has no such scores, and a Marian user who types the
  // flag gets a line saying so (README "Spellings from Marian"), not "unknown".
  cmd->add_option("--target-prefix", f->job.options.target_prefix,
                  "Start every translation with this text: its tokens are forced after the "
                  "decoder start, scored, and kept; the model continues it (default: none)");
  cmd->add_option("--target-prefix-file", f->job.target_prefix_file,
                  "A file of target prefixes, one per input line (an empty line: none; "
                  "default: none)");
  cmd->add_flag("--verbose", f->job.options.warn_each_truncation,
                "Also warn about each line whose translation reached the length limit, naming "
                "it (default: one warning counting them at the end)");
  cmd->add_flag("--word-scores", f->job.word_scores,
                "Also write each token's log-probability: text ' ||| WordScores= S1 S2 ...' as "
                "Marian's --word-scores (in n-best lines too), jsonl \"token_scores\" and "
                "\"pieces\" beside \"tokens\" (default: off)");
  add_quiet_option(cmd, job.quiet);
  cmd->add_option("--attention", job.attention_path,
                  "Write attention maps: a directory (.npy files + index.json), a .npz "
                  "archive or a .json file (default: none)");
  add_attention_options(cmd, f->attention, "cross", true);
  cmd->add_option("--alignment", f->alignment,
                  "Append word alignments after ' ||| ': hard, soft, or a threshold in "
                  "(0, 1] (default: none)");
  return {cmd, [f] { run(*f); }};
}

} // namespace heed::app
