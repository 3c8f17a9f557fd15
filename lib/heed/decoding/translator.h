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
#include "heed/decoding/translation.h"
#include "heed/decoding/translation_options.h"
#include "heed/model/marian_model.h"

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

class Translator {
public:
  // OptionError naming the field of `options` that is out of range. The
  // compute threads are the process's (ops::set_num_threads): the translator
  // leaves them as it finds them.
  Translator(std::shared_ptr<const MarianModel> model, TranslationOptions options);

  // Called after each batch with its sentence and generated-token counts.
  using BatchDone = std::function<void(int64_t sentences, int64_t target_tokens)>;

  // One Translation per source, in order. Empty or whitespace-only sources give
  // an empty translation without running the model. `line_numbers` (1-based,
  // one per source) name inputs in warnings; by default sources count from 1.
  std::vector<Translation> translate(const std::vector<std::string> &sources,
                                     const std::vector<int64_t> *line_numbers = nullptr,
                                     const BatchDone &on_batch = {});
  // Teacher-forced log-probabilities of `targets` given `sources`.
  std::vector<ScoredPair> score(const std::vector<std::string> &sources,
                                const std::vector<std::string> &targets);

  const SearchOptions &search_options() const { return search_; }
  const MarianModel &model() const { return *model_; }
  // Source ids as the encoder sees them: cropped, with a warning naming the
  // 1-based `line_number`, to the model's maximum positions.
  std::vector<int64_t> encode_source(const std::string &text, int64_t line_number);

private:
  // The length limit (start token included) of a batch whose longest source
  // has `longest_source` tokens: search_.max_length, lowered by
  // max_length_ratio.
  int64_t batch_max_length(int64_t longest_source) const;
  // Called with the indices (into the ids) of a batch, longest first, once the
  // encoder has run on it: encoder_out_, mask_ and lengths_ hold the batch.
  using BatchEncoded =
      std::function<void(const std::vector<size_t> &indices, int64_t longest_source)>;
  // The one batching loop of translate() and score(): groups `ids` by length
  // (make_batches; empty ones are left out), pads and encodes each batch and
  // hands it to `decode`.
  void encode_in_batches(const std::vector<std::vector<int64_t>> &ids, const BatchEncoded &decode);

  std::shared_ptr<const MarianModel> model_;
  TranslationOptions options_;
  SearchOptions search_;
  Workspace ws_;
  Tensor encoder_out_, mask_;
  DecoderState state_;
  std::vector<int64_t> padded_ids_, lengths_;
  std::unique_ptr<AttentionRecorder> recorder_; // only when attention is requested
};

} // namespace heed
