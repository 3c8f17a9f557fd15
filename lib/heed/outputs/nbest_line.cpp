#include "heed/outputs/nbest_line.h"

#include <cstdio>
#include <string_view>

#include "heed/core/parse_number.h"

namespace heed {
namespace {
constexpr std::string_view kSeparator = " ||| ";
constexpr std::string_view kFeature = "F0= ";
} // namespace

std::string format_score(float score) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", static_cast<double>(score));
  return buffer;
}

std::string format_nbest_line(int64_t index, const std::string &translation,
                              const std::string *alignment, float log_prob, float score,
                              const std::string *word_scores) {
  std::string line = std::to_string(index);
  line += kSeparator;
  line += translation;
  if (alignment) {
    line += kSeparator;
    line += *alignment;
  }
  if (word_scores) {
    line += kSeparator;
    line += *word_scores;
  }
  line += kSeparator;
  line += kFeature;
  line += format_score(log_prob);
  line += kSeparator;
  line += format_score(score);
  return line;
}

std::string word_scores_field(const std::vector<float> &scores) {
  std::string field = "WordScores=";
  char number[32];
  for (float score : scores) {
    std::snprintf(number, sizeof number, " %.5f", static_cast<double>(score));
    field += number;
  }
  return field;
}

std::optional<int64_t> nbest_line_index(const std::string &line) {
  const std::string_view text(line);
  const size_t first = text.find(kSeparator);
  if (first == std::string_view::npos || first == 0)
    return std::nullopt;
  const auto index = parse_int64(text.substr(0, first));
  if (!index || *index < 0 || text[0] == '+' || text[0] == '-')
    return std::nullopt;
  // The last two fields: "F0= LOG_PROB" and "SCORE".
  const size_t last = text.rfind(kSeparator);
  if (last == first)
    return std::nullopt;
  const size_t features = text.rfind(kSeparator, last - 1);
  if (features == std::string_view::npos || features < first)
    return std::nullopt;
  const std::string_view feature_field =
      text.substr(features + kSeparator.size(), last - features - kSeparator.size());
  if (feature_field.substr(0, kFeature.size()) != kFeature ||
      !parse_real(text.substr(last + kSeparator.size())))
    return std::nullopt;
  return index;
}

} // namespace heed
