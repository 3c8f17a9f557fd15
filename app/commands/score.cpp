// heed score: log-probabilities of given translations (heed/jobs/translate_job.h).
#include <memory>
#include <string>

#include "app/commands/commands.h"
#include "app/default_model.h"
#include "app/options.h"
#include "heed/core/error.h"
#include "heed/jobs/translate_job.h"

namespace heed::app {
namespace {

struct ScoreFlags {
  ScoreJob job;
  ComputeFlags compute;
  EnsembleFlags ensemble;
  std::string format = "text", compute_type = "auto";
  bool split_sentences = false; // refused: see run()
  bool quiet = false;
};

void run(ScoreFlags &f) {
  ScoreJob &job = f.job;
  if (f.split_sentences)
    throw OptionError("heed score does not take --split-sentences: it scores each target line as "
                      "the translation of its whole source line, and the sentences of two "
                      "languages need not pair up; split both files into sentence pairs first");
  apply_compute_flags(f.compute, job.options);
  if (f.quiet)
    silence_warnings();
  job.options.warn = warn;
  apply_ensemble_flags(f.ensemble, job.model_dir, job.ensemble_dirs, job.options);
  job.load = load_options(f.compute_type);
  job.format = parse_output_format(f.format, "--format");
  run_score(job);
}

} // namespace

Command add_score_command(CLI::App &app) {
  auto f = std::make_shared<ScoreFlags>();
  ScoreJob &job = f->job;
  auto *cmd = app.add_subcommand("score", "Log-probabilities of given translations");
  add_ensemble_options(cmd, f->ensemble);
  cmd->add_option("--source", job.source, "Source sentences, one per line")->required();
  cmd->add_option("--target", job.target, "Target sentences, one per line")->required();
  cmd->add_option("-o,--output", job.output,
                  "Output file; its directory must exist (default: standard output)");
  add_format_option(cmd, f->format);
  add_target_language_option(cmd, job.options);
  add_compute_options(cmd, job.options, f->compute);
  add_compute_type_option(cmd, f->compute_type);
  cmd->add_flag("--split-sentences", f->split_sentences,
                "Refused: a score is of a whole line pair (split both files into sentence "
                "pairs first)");
  add_quiet_option(cmd, f->quiet);
  return {cmd, [f] { run(*f); }};
}

} // namespace heed::app
