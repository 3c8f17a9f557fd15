#include "heed/io/shards.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string_view>

#include "heed/core/error.h"
#include "heed/core/parse_number.h"

namespace heed::io {

Shard parse_shard(const std::string &text, const std::string &what) {
  const auto slash = text.find('/');
  const std::string_view all(text);
  const auto k = slash == std::string::npos ? std::nullopt : parse_int64(all.substr(0, slash));
  const auto n = slash == std::string::npos ? std::nullopt : parse_int64(all.substr(slash + 1));
  if (!k || !n)
    throw OptionError(what + " must be K/N (shard K of N, 0 <= K < N), got '" + text + "'");
  const Shard s{*k, *n};
  if (s.count < 1 || s.index < 0 || s.index >= s.count)
    throw OptionError(what + " must be K/N with 0 <= K < N, got '" + text + "'");
  return s;
}

int64_t merge_shards(const std::vector<std::string> &paths, std::ostream &out,
                     int64_t lines_per_input) {
  std::vector<std::unique_ptr<std::ifstream>> files;
  for (const auto &p : paths) {
    files.push_back(std::make_unique<std::ifstream>(p, std::ios::binary));
    if (!*files.back())
      throw IoError(p + ": cannot open for reading: " + std::strerror(errno));
  }
  int64_t inputs = 0;
  std::string line;
  for (size_t turn = 0;; ++turn) {
    const size_t k = turn % files.size();
    std::ifstream &in = *files[k];
    bool got = false;
    for (int64_t l = 0; l < lines_per_input; ++l) {
      if (!std::getline(in, line)) {
        if (l > 0)
          throw IoError(paths[k] + ": ends in the middle of an input's output");
        break;
      }
      got = true;
      out << line << '\n';
    }
    if (!got) {
      // Shard k is exhausted: every later shard must be exhausted too, and
      // every earlier one may hold at most this round.
      for (size_t j = 0; j < files.size(); ++j) {
        if (j == k)
          continue;
        std::ifstream &other = *files[j];
        if (other.peek() != std::ifstream::traits_type::eof())
          throw IoError(paths[j] + ": has more lines than a shard of the same run can have "
                                   "(shard outputs out of order, or from different runs?)");
      }
      return inputs;
    }
    ++inputs;
  }
}

} // namespace heed::io
