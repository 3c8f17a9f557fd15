// Every option of a translation or scoring run: the one struct the CLI maps its
// flags onto. The compute thread count is no option of a run: it is
// process-wide, set with ops::set_num_threads by the program. Unset decoding values come from the
// model's generation_config.json (or config.json), exactly as transformers' generate() would take
// them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "heed/decoding/attention_request.h"
#include "heed/decoding/batching.h"
#include "heed/model/early_stopping.h"

namespace heed {

struct TranslationOptions {
  // Beam size; 1 is greedy search. Default: num_beams of the generation config.
  std::optional<int64_t> beam_size;
  // Hypotheses returned per sentence, at most the beam size.
  int64_t n_best = 1;
  // Exponent of the length normalisation of beam scores (HF length_penalty).
  std::optional<double> length_penalty;
  // HF early_stopping: heuristic (false), always (true) or never.
  std::optional<EarlyStopping> early_stopping;
  // Decoder length limit, start token included (HF max_length).
  std::optional<int64_t> max_length;
  // Limit on generated tokens, EOS included (HF max_new_tokens); wins over max_length.
  std::optional<int64_t> max_new_tokens;
  // When > 0, also caps each batch's generated tokens at ratio x the longest
  // source of the batch (in tokens, at least 1), as Marian's max-length-factor
  // does: a guard against runaway output, and the cap benchmarks use.
  double max_length_ratio = 0;
  // Sentences per batch, or padded source tokens per batch with BatchType::tokens.
  BatchType batch_type = BatchType::sentences;
  int64_t batch_size = 32;
  // Attention weights to record for each output hypothesis (none by default:
  // recording costs time and memory).
  AttentionRequest attention;
  // Receives warnings (e.g. an input cropped to the model's maximum length).
  std::function<void(const std::string &)> warn;
};

} // namespace heed
