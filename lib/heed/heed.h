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

#include "heed/core/error.h"                   // Error, ModelError, IoError, OptionError
#include "heed/decoding/translation.h"         // Translation, TranslationHypothesis, AttentionMaps
#include "heed/decoding/translation_options.h" // TranslationOptions, AttentionRequest
#include "heed/model/load_options.h"           // LoadOptions, ops::ComputeType

namespace heed {

class Translator;

// A loaded model with fixed decoding options: what `heed translate -m DIR
// [options]` runs, without the command line. An Engine reuses its buffers
// between calls, so one Engine serves one thread at a time; threads that
// translate at once each need their own Engine.
class Engine {
public:
  // Loads the model at `model_dir`: a Hugging Face MarianMT directory
  // (config.json, model.safetensors, source.spm, target.spm, vocab.json), any
  // other layout heed reads (see the README), or an ensemble directory
  // (ensemble.yml: its members decode together, with the manifest's weights,
  // beam size and length penalty unless `options` gives its own).
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
  // than the model's maximum positions is translated sentence by sentence
  // (and sentences still too long cut at clause or word boundaries), with a
  // warning through options.warn, as every source is with
  // options.split_sentences (Translation::sentences).
  std::vector<Translation> translate(const std::vector<std::string> &sources);

  // The path the model was loaded from, as given.
  const std::string &model_directory() const;

private:
  std::string directory_;
  std::unique_ptr<Translator> translator_;
};

} // namespace heed
