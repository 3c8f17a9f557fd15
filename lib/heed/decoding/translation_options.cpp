#include "heed/decoding/translation_options.h"

#include <algorithm>
#include <cmath>

#include "heed/core/error.h"
#include "heed/ops/context.h"
#include "heed/text/sentence_splitter.h"

namespace heed {
namespace {

std::string number_text(double x) {
  if (std::isnan(x))
    return "nan";
  if (std::isinf(x))
    return x > 0 ? "inf" : "-inf";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", x);
  return buffer;
}

void check_integer(const char *field, int64_t value, int64_t min, int64_t max) {
  if (value < min || value > max)
    throw OptionError(field, "must be in [" + std::to_string(min) + ", " + std::to_string(max) +
                                 "], got " + std::to_string(value));
}

void check_real(const char *field, double value, double min, double max) {
  if (!std::isfinite(value) || value < min || value > max)
    throw OptionError(field, "must be a finite number in [" + number_text(min) + ", " +
                                 number_text(max) + "], got " + number_text(value));
}

// A finite number in (0, max].
void check_positive(const char *field, double value, double max) {
  if (!std::isfinite(value) || !(value > 0) || value > max)
    throw OptionError(field, "must be a finite number in (0, " + number_text(max) + "], got " +
                                 number_text(value));
}

} // namespace

void check_ranges(const TranslationOptions &o) {
  using R = OptionRanges;
  if (o.beam_size)
    check_integer("beam_size", *o.beam_size, 1, R::kMaxBeamSize);
  check_integer("n_best", o.n_best, 1, R::kMaxBeamSize);
  if (o.length_penalty)
    check_real("length_penalty", *o.length_penalty, -R::kMaxLengthPenalty, R::kMaxLengthPenalty);
  if (o.max_length)
    check_integer("max_length", *o.max_length, 1, R::kMaxLength);
  if (o.max_new_tokens)
    check_integer("max_new_tokens", *o.max_new_tokens, 1, R::kMaxLength);
  check_real("max_length_ratio", o.max_length_ratio, 0, R::kMaxLengthRatio);
  if (o.min_length)
    check_integer("min_length", *o.min_length, 0, R::kMaxLength);
  if (o.min_new_tokens)
    check_integer("min_new_tokens", *o.min_new_tokens, 0, R::kMaxLength);
  if (o.repetition_penalty)
    check_positive("repetition_penalty", *o.repetition_penalty, R::kMaxDivisor);
  if (o.no_repeat_ngram_size)
    check_integer("no_repeat_ngram_size", *o.no_repeat_ngram_size, 0, R::kMaxLength);
  if (o.temperature)
    check_positive("temperature", *o.temperature, R::kMaxDivisor);
  if (o.top_k)
    check_integer("top_k", *o.top_k, 0, R::kMaxTopK);
  if (o.top_p && !(*o.top_p > 0 && *o.top_p <= 1))
    throw OptionError("top_p", "must be a number in (0, 1], got " + number_text(*o.top_p));
  check_integer("batch_size", o.batch_size, 1, R::kMaxBatchSize);
  for (double w : o.ensemble_weights)
    check_positive("ensemble_weights", w, R::kMaxEnsembleWeight);
  check_language(o.source_language);
  // Workers x threads each is bounded as --threads alone is (ops::max_threads).
  const int threads = ops::num_threads();
  const int64_t most = std::max(1, ops::max_threads() / threads);
  if (o.workers < 1 || o.workers > most)
    throw OptionError("workers", "must be in [1, " + std::to_string(most) + "] (workers x " +
                                     std::to_string(threads) + " threads each: at most 4 x the " +
                                     std::to_string(ops::available_cpus()) +
                                     " CPUs available), got " + std::to_string(o.workers));
}

} // namespace heed
