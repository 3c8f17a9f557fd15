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
#include "heed/outputs/translation_sink.h"

namespace heed {

enum class OutputFormat { text, jsonl };

// Parses "text" or "jsonl"; OptionError naming `what` otherwise.
OutputFormat parse_output_format(const std::string &name, const std::string &what = "format");

// Word alignment of hypothesis `rank` of the translation of `source`, the
// text after " ||| ".
using AlignmentText =
    std::function<std::string(const std::string &source, const Translation &, size_t rank)>;

// Text: the best translation per line; with n_best > 1, one line per
// hypothesis in Marian's n-best format (nbest_line.h): "INDEX ||| TRANSLATION
// ||| F0= LOG_PROB ||| SCORE". With `alignment`, it follows the translation as
// in Marian: "TRANSLATION ||| ALIGNMENT", and "INDEX ||| TRANSLATION |||
// ALIGNMENT ||| F0= LOG_PROB ||| SCORE" in n-best lists.
// JSONL: {"index", "source", "translation", "score", "tokens"[, "alignment"]
// [, "n_best": [{"translation", "score", "tokens"[, "alignment"]}, ...]]
// [, "sentences": [{"source", "span", "translation", "score", "tokens"
// [, "n_best": [...]]}, ...]]}. A line translated sentence by sentence (see
// decoding/line_inputs.h) has "sentences": each sentence's text, its "span"
// [begin, end) in Unicode code points of the line (Python's
// source[begin:end]), its part of the line's best translation and, with
// n_best > 1, its own n-best list; the line's "translation", "score" and
// "tokens" are the joined ones (texts joined by one space, scores summed,
// tokens concatenated).
// A sink: flush() flushes `out`, IoError "NAME: write error" when that fails,
// `name` being the output's path or "standard output".
// With `piece_of` (a target id's SentencePiece piece), word scores are
// written too: in text " ||| WordScores= S1 S2 ..." after the translation (and
// its alignment), as Marian's --word-scores does, also in n-best lines
// (nbest_line.h); in JSONL "token_scores" and "pieces", lists aligned with
// "tokens", in every hypothesis object.
using PieceOf = std::function<std::string(int64_t id)>;
std::unique_ptr<TranslationSink> make_translation_writer(OutputFormat format, std::ostream &out,
                                                         const std::string &name, int64_t n_best,
                                                         AlignmentText alignment = {},
                                                         PieceOf piece_of = {});

// Text: the total log-probability per line. JSONL: {"index", "source", "target",
// "score", "tokens", "token_scores"}.
void write_score(OutputFormat format, std::ostream &out, int64_t index, const std::string &source,
                 const std::string &target, const ScoredPair &scored);

// A JSON string of arbitrary bytes: invalid UTF-8 becomes U+FFFD.
std::string json_dump(const nlohmann::json &value);

} // namespace heed
