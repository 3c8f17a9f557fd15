// heed info: what a model is, and how this process computes.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "app/commands/commands.h"
#include "app/default_model.h"
#include "app/options.h"
#include "heed/model/ensemble_manifest.h"
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
  const std::string dir = resolve_model_dir(f.model_dir);
  const LoadOptions load = load_options(f.compute_type);
  nlohmann::json description;
  std::string text;
  if (is_ensemble_manifest(dir)) {
    // An ensemble directory: each member as `heed info -m MEMBER` describes it.
    const EnsembleManifest manifest = read_ensemble_manifest(dir);
    description["ensemble"] = manifest.path;
    description["weights"] = manifest.weights;
    description["members"] = nlohmann::json::array();
    // The ensemble's own decoding defaults (else its first member's).
    if (manifest.beam_size)
      description["num_beams"] = *manifest.beam_size;
    if (manifest.length_penalty)
      description["length_penalty"] = *manifest.length_penalty;
    text = "ensemble: " + manifest.path + " (" + std::to_string(manifest.models.size()) +
           (manifest.models.size() == 1 ? " member)\n" : " members)\n");
    if (manifest.beam_size)
      text += "num_beams: " + std::to_string(*manifest.beam_size) + "\n";
    if (manifest.length_penalty)
      text += "length_penalty: " + nlohmann::json(*manifest.length_penalty).dump() + "\n";
    for (size_t i = 0; i < manifest.models.size(); ++i) {
      auto member = model_info(*MarianModel::load(manifest.models[i], load));
      text += "\nmember " + std::to_string(i + 1) + " (weight " +
              nlohmann::json(manifest.weights[i]).dump() + ")\n" + format_model_info(member);
      description["members"].push_back(std::move(member));
    }
  } else {
    description = model_info(*MarianModel::load(dir, load));
  }
  // How this process computes: what a slow run on a shared machine is checked against.
  auto env = [](const char *name) -> nlohmann::json {
    const char *value = std::getenv(name);
    return value ? nlohmann::json(value) : nlohmann::json(nullptr);
  };
  description["runtime"] = {{"threads", ops::num_threads()},
                            {"physical_cores", ops::physical_cores()},
                            {"GOMP_SPINCOUNT", env("GOMP_SPINCOUNT")},
                            {"OMP_WAIT_POLICY", env("OMP_WAIT_POLICY")}};
  // A model's lines as they always were; an ensemble's runtime after its members.
  text += format_model_info(text.empty() ? description
                                         : nlohmann::json{{"runtime", description["runtime"]}});
  std::cout << (f.json ? description.dump(2) + "\n" : text);
}

} // namespace

Command add_info_command(CLI::App &app) {
  auto f = std::make_shared<InfoFlags>();
  auto *cmd =
      app.add_subcommand("info", "Describe a model (or each member of an ensemble directory)");
  add_model_option(cmd, f->model_dir);
  cmd->add_flag("--json", f->json, "Print JSON instead of text");
  add_compute_type_option(cmd, f->compute_type);
  return {cmd, [f] { run(*f); }};
}

} // namespace heed::app
