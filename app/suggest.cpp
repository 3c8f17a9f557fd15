#include "app/suggest.h"

#include <algorithm>
#include <cstddef>

namespace heed::app {
namespace {

std::string without_dashes(const std::string &name) {
  const size_t start = name.find_first_not_of('-');
  return start == std::string::npos ? std::string() : name.substr(start);
}

// Optimal string alignment distance (Damerau-Levenshtein without repeated
// edits of one substring): a swapped pair of letters is one typo.
size_t edit_distance(const std::string &a, const std::string &b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i)
    d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j)
    d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

} // namespace

std::string closest_name(const std::string &typed, const std::vector<std::string> &known) {
  const std::string t = without_dashes(typed);
  if (t.empty())
    return "";
  std::string best;
  size_t best_distance = 0;
  for (const auto &name : known) {
    const std::string k = without_dashes(name);
    size_t distance = edit_distance(t, k);
    // "--beam" for "--beam-size": an abbreviation of at least 3 letters.
    if (t.size() >= 3 && k.size() > t.size() && k.compare(0, t.size(), t) == 0)
      distance = std::min<size_t>(distance, 1);
    const size_t limit = std::min<size_t>(2, std::max(t.size(), k.size()) / 3);
    if (distance <= limit && (best.empty() || distance < best_distance)) {
      best = name;
      best_distance = distance;
    }
  }
  return best;
}

} // namespace heed::app
