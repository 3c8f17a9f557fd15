// Translates and scores batches of sentences with a loaded model: tokenizes,
// groups sentences of similar length into batches, runs the encoder and the
// search, and returns results in input order.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "heed/core/workspace.h"
#include "heed/decoding/attention_recorder.h"
#include "heed/decoding/forced_decoding.h"
#include "heed/decoding/search_options.h"
#include "heed/decoding/step_scorer.h"
#include "heed/decoding/translation.h"
#include "heed/decoding/translation_options.h"
#include "heed/model/marian_model.h"
#include "heed/text/sentence_splitter.h"

namespace heed {

struct ScoredPair {
  std::vector<int64_t> target_ids; // EOS included
  TargetScore score;
  // Empty for a score; else why there is none (the model produced non-finite
  // log-probabilities): writers then show no number.
  std::string error;
};

// Resolves user options against the model's generation config; OptionError
// for out-of-range or contradictory values.
SearchOptions resolve_search_options(const MarianModel &model, const TranslationOptions &options);

class BatchWorkers;

class Translator {
public:
  // OptionError naming the field of `options` that is out of range. The
  // compute threads are those of the constructing thread (ops::set_num_threads):
  // the translator leaves them as it finds them, and with
  // TranslationOptions::workers > 1 starts that many threads, each computing
  // on as many compute threads, that share the model (its packed weights are
  // read-only) and own the rest: workspace, encoder outputs, decoder caches,
  // oneDNN primitives (ops: per thread).
  Translator(std::shared_ptr<const MarianModel> model, TranslationOptions options);
  // An ensemble (Marian's -m A -m B): every model decodes the same source side
  // by side, each with its own encoder output and decoder caches, and the
  // searches and scores run on the weighted sum of their log-probabilities
  // (decoding/step_scorer.h; weights TranslationOptions::ensemble_weights,
  // 1 each by default). The first model is the ensemble's face: its tokenizer
  // encodes the sources and decodes the outputs, and its length limits,
  // generation config and sentence rules apply; attention recorded
  // (TranslationOptions::attention) is the first model's. ModelError naming
  // both models unless every model has the first's source and target
  // vocabularies (the same piece at every id) and at least its positions;
  // OptionError (ensemble_weights) unless the weights are one per model.
  // One model is exactly the constructor above.
  Translator(std::vector<std::shared_ptr<const MarianModel>> models, TranslationOptions options);
  ~Translator();
  Translator(Translator &&) noexcept;

  // Called after each batch with its sentence and generated-token counts.
  using BatchDone = std::function<void(int64_t sentences, int64_t target_tokens)>;

  // One Translation per source, in order. Empty or whitespace-only sources give
  // an empty translation without running the model. A source is one input of
  // the model, or several (its sentences, see decoding/line_inputs.h) with
  // TranslationOptions::split_sentences or when longer than the model's
  // maximum; all inputs are sorted by length and batched together.
  // `line_numbers` (1-based, one per source) name inputs in warnings; by
  // default sources count from 1. `on_batch` counts the sources finished.
  // With several workers their batches run side by side; the results,
  // warnings and `on_batch` calls are those of one worker, in the same order,
  // on the calling thread. An exception from `on_batch` ends the call once
  // the batches running have ended.
  // `prefixes` (one per source, "" for none) are target prefixes instead of
  // TranslationOptions::target_prefix.
  std::vector<Translation> translate(const std::vector<std::string> &sources,
                                     const std::vector<int64_t> *line_numbers = nullptr,
                                     const BatchDone &on_batch = {},
                                     const std::vector<std::string> *prefixes = nullptr);
  // Teacher-forced log-probabilities of `targets` given `sources`. IoError
  // naming the line for a source or target longer than the model's maximum
  // (a score is of the whole pair: nothing is split or cropped).
  std::vector<ScoredPair> score(const std::vector<std::string> &sources,
                                const std::vector<std::string> &targets);

  const SearchOptions &search_options() const { return search_; }
  // Lines translated so far whose best hypothesis reached its length limit
  // (TranslationHypothesis::truncated).
  int64_t truncated_lines() const { return truncated_lines_; }
  // The first model (of an ensemble: the one whose tokenizer and limits apply).
  const MarianModel &model() const { return *model_; }
  size_t ensemble_size() const { return models_.size(); }
  // The sentence rules in use (TranslationOptions::source_language, else the model's).
  const SentenceSplitter &sentence_splitter() const { return splitter_; }
  // Source ids of a text the caller keeps whole (benchmarks): cropped, with a
  // warning naming the 1-based `line_number`, to the model's maximum positions.
  std::vector<int64_t> encode_source(const std::string &text, int64_t line_number);

private:
  struct Replica; // what one worker computes in (translator.cpp)
  // The length limit (start token included) of a sentence whose source has
  // `source_length` tokens: search_.max_length, lowered by max_length_ratio.
  int64_t sentence_max_length(int64_t source_length) const;
  // Pads the batch of `ids` at `indices` (longest first, from make_batches)
  // and runs the encoder on it into the replica's encoder_out, mask and
  // lengths; returns the longest source length.
  int64_t encode_batch(Replica &replica, const std::vector<std::vector<int64_t>> &ids,
                       const std::vector<size_t> &indices);

  // The members' decoders and states for a search or a score, with the weights.
  StepScorer scorer(Replica &replica) const;

  std::vector<std::shared_ptr<const MarianModel>> models_; // the ensemble, first member first
  std::vector<float> weights_;                             // one per model
  std::vector<const MarianConfig *> configs_;              // each model's, for memory estimates
  std::shared_ptr<const MarianModel> model_;               // models_.front()
  TranslationOptions options_;
  SearchOptions search_;
  std::vector<std::unique_ptr<Replica>> replicas_; // one per worker
  std::unique_ptr<BatchWorkers> workers_;          // only with more than one worker
  SentenceSplitter splitter_;
  int64_t truncated_lines_ = 0;
  bool position_limited_ = false; // the model's positions lowered the requested limit
};

} // namespace heed
