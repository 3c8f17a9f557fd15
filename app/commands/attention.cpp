// heed attention: a few sentences translated and their attention maps written
// as a web page (heed/jobs/translate_job.h).
#include <memory>
#include <string>

#include "app/commands/commands.h"
#include "app/default_model.h"
#include "app/options.h"
#include "heed/jobs/translate_job.h"
#include "heed/ops/context.h"

namespace heed::app {
namespace {

struct AttentionPageFlags {
  AttentionPageJob job;
  DecodingFlags decoding;
  AttentionFlags attention;
  EnsembleFlags ensemble;
  std::string compute_type = "auto";
  bool quiet = false;
};

void run(AttentionPageFlags &f) {
  AttentionPageJob &job = f.job;
  apply_decoding_flags(f.decoding, job.options);
  if (f.quiet)
    silence_warnings();
  job.options.warn = warn;
  ops::set_num_threads(0); // no --threads here: all physical cores
  apply_ensemble_flags(f.ensemble, job.model_dir, job.ensemble_dirs, job.options);
  job.load = load_options(f.compute_type);
  apply_attention_flags(f.attention, job.options.attention);
  run_attention_page(job);
}

} // namespace

Command add_attention_command(CLI::App &app) {
  auto f = std::make_shared<AttentionPageFlags>();
  AttentionPageJob &job = f->job;
  auto *cmd = app.add_subcommand(
      "attention", "Translate a few sentences and write their attention maps as a web page");
  add_ensemble_options(cmd, f->ensemble);
  cmd->add_option("text", job.texts, "Sentences (default: --input)");
  cmd->add_option("-i,--input", job.input,
                  "File of sentences, at most 200 (default: standard input)");
  cmd->add_option("--html", job.html_path, "The page to write; its directory must exist")
      ->required();
  cmd->add_option("--attention", job.attention_path,
                  "Also write the arrays: directory, .npz or .json (default: none)");
  add_attention_options(cmd, f->attention, "all", false);
  add_decoding_options(cmd, job.options, f->decoding);
  add_sentence_options(cmd, job.options);
  add_target_language_option(cmd, job.options);
  add_compute_type_option(cmd, f->compute_type);
  add_quiet_option(cmd, f->quiet);
  return {cmd, [f] { run(*f); }};
}

} // namespace heed::app
