// Every option of a translation or scoring run: the one struct the CLI maps its
// flags onto. The compute thread count is no option of a run: it is the
// calling thread's, set with ops::set_num_threads by the program. Unset decoding values come from
// the model's generation_config.json (or config.json), exactly as transformers' generate() would
// take them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "heed/decoding/attention_request.h"
#include "heed/decoding/batching.h"
#include "heed/model/early_stopping.h"
#include "heed/model/generation_limits.h"

namespace heed {

// Valid ranges (checked by check_ranges below, OptionError naming the field):
struct OptionRanges {
  static constexpr int64_t kMaxBeamSize = GenerationLimits::kMaxBeams;
  static constexpr int64_t kMaxLength = GenerationLimits::kMaxLength; // max_length, max_new_tokens
  static constexpr int64_t kMaxBatchSize = 1'048'576;                 // sentences or tokens
  static constexpr double kMaxLengthPenalty = GenerationLimits::kMaxLengthPenalty;
  static constexpr double kMaxLengthRatio = 1000;
  static constexpr double kMaxDivisor =
      GenerationLimits::kMaxDivisor; // repetition_penalty, temperature
  static constexpr int64_t kMaxTopK = GenerationLimits::kMaxTopK;
  static constexpr double kMaxEnsembleWeight = 1000;
};

struct TranslationOptions {
  // Beam size in [1, 1024]; 1 is greedy search. Default: num_beams of the
  // generation config. The memory one batch of beams needs is also estimated
  // against the memory available before the first batch (Translator).
  std::optional<int64_t> beam_size;
  // Hypotheses returned per sentence, in [1, beam size].
  int64_t n_best = 1;
  // Exponent of the length normalisation of beam scores (HF length_penalty),
  // finite, in [-10, 10].
  std::optional<double> length_penalty;
  // HF early_stopping: heuristic (false), always (true) or never.
  std::optional<EarlyStopping> early_stopping;
  // Decoder length limit, start token included (HF max_length), in [2, 1048576]
  // (then capped by the model's positions).
  std::optional<int64_t> max_length;
  // Limit on generated tokens, EOS included (HF max_new_tokens); wins over
  // max_length. In [1, 1048576].
  std::optional<int64_t> max_new_tokens;
  // When > 0, also caps each sentence's generated tokens at ratio x its own
  // source length (in tokens, at least 1), as Marian's max-length-factor
  // does: a guard against runaway output, and the cap benchmarks use. Per
  // sentence, so that a translation does not depend on its batch. Finite, in
  // [0, 1000].
  double max_length_ratio = 0;
  // Minimum decoder length, start token included (HF min_length), in [0,
  // 1048576]: EOS is banned until then. Default: the generation config's.
  std::optional<int64_t> min_length;
  // Minimum count of generated tokens, EOS excluded (HF min_new_tokens); wins
  // over min_length. In [0, 1048576].
  std::optional<int64_t> min_new_tokens;
  // HF repetition_penalty, finite, in (0, 1000]; 1 = off. Default: the
  // generation config's.
  std::optional<double> repetition_penalty;
  // HF no_repeat_ngram_size, in [0, 1048576]; 0 = off. Default: the
  // generation config's.
  std::optional<int64_t> no_repeat_ngram_size;
  // Sampling instead of search (HF do_sample; decoding/token_sampler.h).
  // Default: the generation config's do_sample. Sampling runs one beam:
  // without beam_size it uses 1, and a beam_size above 1 is an OptionError
  // (beam sampling is not implemented).
  std::optional<bool> sampling;
  // The sampling warpers (HF temperature, top_k, top_p): temperature finite
  // in (0, 1000]; top_k in [0, 1048576], 0 = off; top_p in (0, 1], 1 = off.
  // Defaults: the generation config's, else transformers' 1, 50 and 1. Set
  // without sampling they are an OptionError (they would change nothing).
  std::optional<double> temperature;
  std::optional<int64_t> top_k;
  std::optional<double> top_p;
  // Seeds the sampling: with the input's line number it seeds each sentence's
  // generator, so outputs depend on nothing else (batching, threads, shards,
  // resuming). Default 0; set without sampling an OptionError.
  std::optional<uint64_t> seed;
  // Sentences per batch, or padded source tokens per batch with
  // BatchType::tokens; in [1, 1048576].
  BatchType batch_type = BatchType::sentences;
  int64_t batch_size = 32;
  // Translate each line sentence by sentence (ICU's sentence boundaries), as
  // independent inputs batched with all others, and join their translations
  // with one space. Without it a line is one input, unless it is longer than
  // the model's max_position_embeddings: such a line is split all the same.
  bool split_sentences = false;
  // The language whose sentence rules apply: a BCP 47 tag such as "en"; ""
  // = the model's source language when it says (model/source_language.h),
  // else ICU's root rules. OptionError unless "" or such a tag
  // (text/sentence_splitter.h: check_language).
  std::string source_language;
  // A multilingual model's target language: CODE of a ">>CODE<<" entry of its
  // vocabulary (opus-mt-en-ROMANCE: "spa"), put in front of every source that
  // does not start with a code already, where MarianTokenizer expects it. Then
  // the code is the source's first word, as if typed (alignments count it).
  // "" = none. OptionError (field target_language) listing the valid codes
  // when the vocabulary has no such entry.
  std::string target_language;
  // Attention weights to record for each output hypothesis (none by default:
  // recording costs time and memory).
  AttentionRequest attention;
  // A target prefix for every line (Translator::translate takes one per
  // line instead): the translation starts with these words (tokenized with
  // the target SentencePiece model, no EOS), which are forced after the
  // decoder start token, their log-probabilities counted in the score, and
  // kept in the output; the search continues from them. "" = none. Of a line
  // translated sentence by sentence, the first sentence gets it.
  std::string target_prefix;
  // Batches translated side by side by as many threads (Translator), each
  // computing on the constructing thread's compute thread count T
  // (ops::num_threads): in [1, ops::max_threads() / T]. Outputs do not depend
  // on it; memory for the batches in flight grows with it.
  int64_t workers = 1;
  // Ensembles (Translator given several models): each member's weight in the
  // weighted sum of the members' log-probabilities (decoding/step_scorer.h,
  // Marian's --weights), one finite positive number in (0, 1000] per model;
  // empty = 1 each, as Marian (not 1/N). With one model a weight other than 1
  // scales its log-probabilities.
  std::vector<double> ensemble_weights;
  // Also warn about each line whose best translation reached its length
  // limit (TranslationHypothesis::truncated), naming the line.
  bool warn_each_truncation = false;
  // Receives warnings (e.g. an input cropped to the model's maximum length).
  std::function<void(const std::string &)> warn;
};

// OptionError(field, problem) for the first value outside its range above
// (those that need no model; the beam memory estimate needs one). Called by
// resolve_search_options, and by jobs before they load a model.
void check_ranges(const TranslationOptions &options);

} // namespace heed
