// heed info: what a model is, and how this process computes.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "app/commands/commands.h"
#include "app/default_model.h"
#include "app/options.h"
#include "heed/model/marian_model.h"
#include "heed/ops/context.h"
#include "heed/outputs/model_info.h"

namespace heed::app {
namespace {

struct InfoFlags {
  std::string model_dir, compute_type = "auto";
  bool json = false;
};

void run(const InfoFlags &f) {
  auto model = MarianModel::load(resolve_model_dir(f.model_dir), load_options(f.compute_type));
  auto description = model_info(*model);
  // How this process computes: what a slow run on a shared machine is checked against.
  auto env = [](const char *name) -> nlohmann::json {
    const char *value = std::getenv(name);
    return value ? nlohmann::json(value) : nlohmann::json(nullptr);
  };
  description["runtime"] = {{"threads", ops::num_threads()},
                            {"physical_cores", ops::physical_cores()},
                            {"GOMP_SPINCOUNT", env("GOMP_SPINCOUNT")},
                            {"OMP_WAIT_POLICY", env("OMP_WAIT_POLICY")}};
  std::cout << (f.json ? description.dump(2) + "\n" : format_model_info(description));
}

} // namespace

Command add_info_command(CLI::App &app) {
  auto f = std::make_shared<InfoFlags>();
  auto *cmd = app.add_subcommand("info", "Describe a model");
  add_model_option(cmd, f->model_dir);
  cmd->add_flag("--json", f->json, "Print JSON instead of text");
  add_compute_type_option(cmd, f->compute_type);
  return {cmd, [f] { run(*f); }};
}

} // namespace heed::app
