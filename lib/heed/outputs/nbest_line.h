// One line of an n-best list in Marian's format, which Moses-style tools and
// Marian's own rescorer parse by splitting at " ||| ":
//
//   INDEX ||| TRANSLATION [||| ALIGNMENT] [||| WordScores= S1 S2 ...] ||| F0= LOG_PROB ||| SCORE
//
// INDEX is the 0-based input line; the optional fields are the word alignment
// (--alignment) and the tokens' log-probabilities (--word-scores, Marian's
// format: word_scores_field below); then the feature field, "NAME= VALUE" pairs separated by
// spaces, which for a single model is one feature F0, the sum of the tokens'
// log-probabilities (Marian's path score); last the total score the list is
// ranked by, here transformers' sequences_scores: that sum divided by
// length^length_penalty (equal to F0 with greedy search or a length penalty
// of 0). Marian's translator/output_printer.h writes the same fields.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace heed {

// The line without its "\n". `translation`, `alignment` and `word_scores`
// must hold no line break; each is left out when null.
std::string format_nbest_line(int64_t index, const std::string &translation,
                              const std::string *alignment, float log_prob, float score,
                              const std::string *word_scores = nullptr);

// "WordScores= -0.12345 -1.00000": Marian's field of per-token scores
// (translator/output_printer.cpp: five decimals, each after a space).
std::string word_scores_field(const std::vector<float> &scores);

// The INDEX of a line in this format, or nothing when `line` is not one: it
// must start with a whole number and " ||| ", and end with a feature field
// whose first feature is F0 and a number.
std::optional<int64_t> nbest_line_index(const std::string &line);

// The shortest decimal that reads back as the same float ("-1.5", "-0.333333343").
std::string format_score(float score);

} // namespace heed
