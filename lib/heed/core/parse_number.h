// Numbers from text, written once for every parser of user text (flag values,
// --shard K/N, index lists, bench settings, alignment thresholds): the whole
// text must be the number, with an optional sign and nothing around it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace heed {

// A whole number in decimal.
struct ParsedInteger {
  std::optional<int64_t> value; // unset when the text is no whole number
  bool out_of_range = false;    // a whole number, but not one an int64_t holds
};

ParsedInteger parse_integer(std::string_view text);

// The value, or nothing for text that is not a whole number in int64_t range.
inline std::optional<int64_t> parse_int64(std::string_view text) {
  return parse_integer(text).value;
}

// A real number as strtod reads it ("0.5", "1e-3", "inf", "nan"), or nothing
// when the text is none or out of double's range.
std::optional<double> parse_real(std::string_view text);

} // namespace heed
