// heed translate: sentences, a file or standard input through the translate
// loop (heed/jobs/translate_job.h).
#include <memory>
#include <string>

#include "app/commands/commands.h"
#include "app/default_model.h"
#include "app/options.h"
#include "heed/core/error.h"
#include "heed/io/input_file.h"
#include "heed/io/shards.h"
#include "heed/jobs/translate_job.h"
#include "heed/outputs/attention_writer.h"

namespace heed::app {
namespace {

struct TranslateFlags {
  TranslateJob job;
  DecodingFlags decoding;
  ComputeFlags compute;
  AttentionFlags attention;
  std::string format = "text", compute_type = "auto", shard, alignment;
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
  apply_decoding_flags(f.decoding, job.options);
  apply_compute_flags(f.compute, job.options);
  job.options.warn = warn;
  job.model_dir = resolve_model_dir(job.model_dir);
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
  run_translate(job);
}

} // namespace

Command add_translate_command(CLI::App &app) {
  auto f = std::make_shared<TranslateFlags>();
  TranslateJob &job = f->job;
  auto *cmd = app.add_subcommand("translate", "Translate text, a file or standard input");
  add_model_option(cmd, job.model_dir);
  cmd->add_option("text", job.texts,
                  "Sentences to translate (else the input file or standard input)");
  cmd->add_option("-i,--input", job.input, "Input file, one sentence per line (- = stdin)");
  cmd->add_option("-o,--output", job.output, "Output file (default: stdout)");
  add_format_option(cmd, f->format);
  add_decoding_options(cmd, job.options, f->decoding);
  add_compute_options(cmd, job.options, f->compute);
  add_compute_type_option(cmd, f->compute_type);
  cmd->add_option("--window", job.window,
                  "Lines read ahead and sorted by length before batching (default: "
                  "max(256, 8 x batch size); 1024 with --batch-type tokens)")
      ->check(at_least(1));
  cmd->add_flag("--resume", job.resume,
                "Continue an interrupted run: keep the complete outputs in -o FILE and "
                "translate the rest");
  cmd->add_option("--shard", f->shard,
                  "Translate shard K/N of the input: lines K, K+N, K+2N, ... (0-based); "
                  "merge outputs with `heed merge-shards`");
  cmd->add_flag("--strict", job.strict, "Reject invalid UTF-8 instead of replacing it");
  cmd->add_flag("--progress", f->progress,
                "Show the progress bar even when stderr is no "
                "terminal");
  cmd->add_flag("--no-progress", f->no_progress, "Never show the progress bar");
  cmd->add_flag("-q,--quiet", job.quiet, "No summary line at the end");
  cmd->add_option("--attention", job.attention_path,
                  "Write attention maps: a directory (.npy files + index.json), a .npz "
                  "archive or a .json file");
  add_attention_options(cmd, f->attention);
  cmd->add_option("--alignment", f->alignment,
                  "Append word alignments after ' ||| ': hard, soft, or a threshold in "
                  "(0, 1]");
  return {cmd, [f] { run(*f); }};
}

} // namespace heed::app
