// Writers for translations and scores: plain text (one line per input, or
// Marian-style n-best lines) and JSON lines with tokens and scores.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "heed/decoding/translator.h"

namespace heed {

enum class OutputFormat { text, jsonl };

// Parses "text" or "jsonl"; OptionError otherwise.
OutputFormat parse_output_format(const std::string &name);

class TranslationWriter {
public:
  virtual ~TranslationWriter() = default;
  // `index` is the 0-based input line number.
  virtual void write(int64_t index, const std::string &source, const Translation &t) = 0;
};

// Word alignment of hypothesis `rank` of a translation, the text after " ||| ".
using AlignmentText = std::function<std::string(const Translation &, size_t rank)>;

// Text: the best translation per line; with n_best > 1, lines
// "INDEX ||| TRANSLATION ||| SCORE" for each hypothesis (Marian's n-best format).
// With `alignment`, it follows the translation as in Marian: "TRANSLATION |||
// ALIGNMENT", and "INDEX ||| TRANSLATION ||| ALIGNMENT ||| SCORE" in n-best lists.
// JSONL: {"index", "source", "translation", "score", "tokens"[, "alignment"]
// [, "n_best": [{"translation", "score", "tokens"[, "alignment"]}, ...]]}.
std::unique_ptr<TranslationWriter> make_translation_writer(OutputFormat format, std::ostream &out,
                                                           int64_t n_best,
                                                           AlignmentText alignment = {});

// Text: the total log-probability per line. JSONL: {"index", "source", "target",
// "score", "tokens", "token_scores"}.
void write_score(OutputFormat format, std::ostream &out, int64_t index, const std::string &source,
                 const std::string &target, const ScoredPair &scored);

// A JSON string of arbitrary bytes: invalid UTF-8 becomes U+FFFD.
std::string json_dump(const nlohmann::json &value);

} // namespace heed
