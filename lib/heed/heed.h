// heed as a C++ library: load a MarianMT model directory once, then translate
// batches of sentences with it.
//
//   #include <heed/heed.h>
//   heed::Engine engine("opus-mt-en-de");
//   for (const heed::Translation &t : engine.translate({"Two dogs play in the snow."}))
//     std::cout << t.hypotheses.front().text << '\n';
//
// This header and the few it includes are heed's public interface, the
// headers `cmake --install` installs: they need only the C++ standard library
// (oneDNN, SentencePiece and JSON stay inside libheed). Every other header
// under lib/heed is internal to heed and may change without notice.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "heed/core/error.h"           // Error, ModelError, IoError, OptionError
#include "heed/decoding/translation.h" // Translation, TranslationHypothesis, AttentionMaps
#include "heed/model/load_options.h"   // LoadOptions, ops::ComputeType
#include "heed/decoding/translation_options.h" // TranslationOptions, AttentionRequest

namespace heed {

class MarianModel;
class Translator;

// A loaded model with fixed decoding options: what `heed translate -m DIR
// [options]` runs, without the command line. An Engine reuses its buffers
// between calls, so one Engine serves one thread at a time; threads that
// translate at once each need their own Engine.
class Engine {
public:
  // Loads the Hugging Face MarianMT directory `model_dir` (config.json,
  // model.safetensors, source.spm, target.spm, vocab.json; see the README).
  // Unset decoding options take the model's generation config, as
  // transformers' generate() does. Throws ModelError naming the file and field
  // at fault, IoError when a file cannot be read, OptionError for an option
  // out of range for this model.
  explicit Engine(const std::string &model_dir, TranslationOptions options = {},
                  LoadOptions load = {});
  ~Engine();
  Engine(Engine &&) noexcept;
  Engine &operator=(Engine &&) noexcept;

  // One Translation per source, in order, each with options.n_best hypotheses,
  // best first. Sentences are batched by length (options.batch_size). A blank
  // source gives empty hypotheses without running the model; a source longer
  // than the model's maximum positions is cropped, with a warning through
  // options.warn.
  std::vector<Translation> translate(const std::vector<std::string> &sources);

  // The directory the model was loaded from.
  const std::string &model_directory() const;

private:
  std::shared_ptr<const MarianModel> model_;
  std::unique_ptr<Translator> translator_;
};

} // namespace heed
