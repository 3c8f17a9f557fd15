#include "heed/core/parse_number.h"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <string>
#include <system_error>

namespace heed {

ParsedInteger parse_integer(std::string_view text) {
  ParsedInteger parsed;
  // std::from_chars takes "-" but not "+"; accept both signs as strtoll does.
  if (text.size() > 1 && text.front() == '+' && text[1] != '-')
    text.remove_prefix(1);
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (end != text.data() + text.size() || text.empty())
    return parsed;
  if (error == std::errc::result_out_of_range) {
    parsed.out_of_range = true;
    return parsed;
  }
  if (error == std::errc())
    parsed.value = value;
  return parsed;
}

std::optional<double> parse_real(std::string_view text) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front())))
    return std::nullopt;
  const std::string copy(text); // strtod needs a terminated string
  char *end = nullptr;
  errno = 0;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || errno == ERANGE)
    return std::nullopt;
  return value;
}

} // namespace heed
