// heed convert: a model as a Hugging Face safetensors directory, optionally with int8
// or bfloat16 weights (heed/jobs/convert_job.h).
#include <iostream>
#include <memory>
#include <string>

#include "app/commands/commands.h"
#include "app/default_model.h"
#include "app/options.h"
#include "heed/jobs/convert_job.h"

namespace heed::app {
namespace {

struct ConvertFlags {
  ConvertJob job;
  std::string quantize;
};

void run(ConvertFlags &f) {
  f.job.model_dir = single_model_dir(f.job.model_dir, "convert");
  if (!f.quantize.empty())
    f.job.quantize = f.quantize == "bfloat16" ? ops::ComputeType::bfloat16 : ops::ComputeType::int8;
  const auto report = run_convert(f.job);
  std::cout << format_convert_report(f.job, report);
}

} // namespace

Command add_convert_command(CLI::App &app) {
  auto f = std::make_shared<ConvertFlags>();
  auto *cmd = app.add_subcommand(
      "convert",
      "Write a model (safetensors, pytorch_model.bin or native Marian) as a Hugging Face "
      "safetensors directory, optionally with int8 or bfloat16 weights");
  add_model_option(cmd, f->job.model_dir);
  cmd->add_option("--quantize", f->quantize,
                  "Weight type to write: int8 or bfloat16 (default: the original's; needed for "
                  "a model in safetensors already)")
      ->check(CLI::IsMember({"int8", "bfloat16"}));
  cmd->add_option("-o,--output", f->job.output_dir,
                  "New model directory, created in an existing parent (or an empty one)")
      ->required();
  return {cmd, [f] { run(*f); }};
}

} // namespace heed::app
