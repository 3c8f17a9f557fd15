#include "app/default_model.h"

#include <cstdlib>
#include <system_error>

#include "heed/core/error.h"
#include "heed/model/ensemble_manifest.h"

namespace fs = std::filesystem;

namespace heed::app {

std::vector<fs::path> default_model_candidates(const fs::path &executable) {
  const fs::path dir = executable.parent_path();
  return {
      (dir / ".." / "models" / kDefaultModelName).lexically_normal(),
      (dir / ".." / "share" / "heed" / "models" / kDefaultModelName).lexically_normal(),
      (dir / "models" / kDefaultModelName).lexically_normal(),
      // Last: an installed or copied binary must prefer the model beside it.
      (fs::path(HEED_SOURCE_MODELS_DIR) / kDefaultModelName).lexically_normal(),
  };
}

std::string first_model_dir(const std::vector<fs::path> &candidates) {
  std::string searched;
  for (const auto &candidate : candidates) {
    std::error_code error;
    // A model directory, or an ensemble directory (model/ensemble_manifest.h).
    if (fs::is_regular_file(candidate / "config.json", error) ||
        fs::is_regular_file(candidate / kEnsembleManifestName, error))
      return candidate.string();
    searched += (searched.empty() ? "" : ", ") + candidate.string();
  }
  throw ModelError(std::string("no model given and the shipped model ") + kDefaultModelName +
                   " is not installed; pass -m DIR or set " + kModelEnvironmentVariable +
                   " (searched " + searched + ")");
}

fs::path current_executable() {
  std::error_code error;
  // Resolves symlinks too: a /usr/local/bin/heed link into an unpacked release
  // still finds the models next to the real binary.
  fs::path exe = fs::read_symlink("/proc/self/exe", error);
  return error ? fs::path() : exe;
}

std::string resolve_model_dir(const std::string &flag_value) {
  if (!flag_value.empty())
    return flag_value;
  if (const char *env = std::getenv(kModelEnvironmentVariable); env && *env) {
    std::error_code error;
    if (!fs::is_directory(env, error))
      throw ModelError(std::string(kModelEnvironmentVariable) + "=" + env +
                       " is not a directory (unset it to use the shipped model, or pass -m DIR)");
    return env;
  }
  const fs::path exe = current_executable();
  if (exe.empty()) // unknown: only the source tree's model can be found
    return first_model_dir({fs::path(HEED_SOURCE_MODELS_DIR) / kDefaultModelName});
  return first_model_dir(default_model_candidates(exe));
}

} // namespace heed::app
