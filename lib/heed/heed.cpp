#include "heed/heed.h"

#include <utility>

#include "heed/decoding/translator.h"
#include "heed/model/ensemble_manifest.h"
#include "heed/model/marian_model.h"

namespace heed {
namespace {

// The model at `path`, or the members of the ensemble directory there (with
// the manifest's weights unless `options` has its own).
std::vector<std::shared_ptr<const MarianModel>>
load_models(const std::string &path, TranslationOptions &options, const LoadOptions &load) {
  if (!is_ensemble_manifest(path))
    return {MarianModel::load(path, load)};
  const EnsembleManifest manifest = read_ensemble_manifest(path);
  if (options.ensemble_weights.empty())
    options.ensemble_weights = manifest.weights;
  if (manifest.beam_size && !options.beam_size)
    options.beam_size = manifest.beam_size;
  if (manifest.length_penalty && !options.length_penalty)
    options.length_penalty = manifest.length_penalty;
  std::vector<std::shared_ptr<const MarianModel>> models;
  for (const auto &member : manifest.models)
    models.push_back(MarianModel::load(member, load));
  return models;
}

} // namespace

Engine::Engine(const std::string &model_dir, TranslationOptions options, LoadOptions load)
    : directory_(model_dir) {
  translator_ =
      std::make_unique<Translator>(load_models(model_dir, options, load), std::move(options));
}

Engine::~Engine() = default;
Engine::Engine(Engine &&) noexcept = default;
Engine &Engine::operator=(Engine &&) noexcept = default;

std::vector<Translation> Engine::translate(const std::vector<std::string> &sources) {
  return translator_->translate(sources);
}

const std::string &Engine::model_directory() const { return directory_; }

} // namespace heed
