#include "heed/heed.h"

#include <utility>

#include "heed/decoding/translator.h"
#include "heed/model/marian_model.h"

namespace heed {

Engine::Engine(const std::string &model_dir, TranslationOptions options, LoadOptions load)
    : model_(MarianModel::load(model_dir, load)),
      translator_(std::make_unique<Translator>(model_, std::move(options))) {}

Engine::~Engine() = default;
Engine::Engine(Engine &&) noexcept = default;
Engine &Engine::operator=(Engine &&) noexcept = default;

std::vector<Translation> Engine::translate(const std::vector<std::string> &sources) {
  return translator_->translate(sources);
}

const std::string &Engine::model_directory() const { return model_->directory; }

} // namespace heed
