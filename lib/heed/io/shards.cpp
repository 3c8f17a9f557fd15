#include "heed/io/shards.h"

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

} // namespace heed::io
