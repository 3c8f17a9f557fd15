// Well-formed UTF-8 (RFC 3629): the one check shared by the input reader's
// repair (text/input_line.cpp) and the escaping of quoted text in messages
// (io/printable.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace heed {

// Length of the well-formed UTF-8 sequence at s[i] (1 for ASCII, 2 to 4
// otherwise), or 0 if the bytes there are not one: overlong forms, surrogates
// and code points past U+10FFFF are not.
inline size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(i);
  const size_t left = s.size() - i;
  auto continuation = [&](size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
  if (b0 < 0x80)
    return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF)
    return left >= 2 && continuation(i + 1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (left < 3 || !continuation(i + 1) || !continuation(i + 2))
      return 0;
    const uint8_t b1 = byte(i + 1);
    if ((b0 == 0xE0 && b1 < 0xA0) || (b0 == 0xED && b1 >= 0xA0)) // overlong, surrogate
      return 0;
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (left < 4 || !continuation(i + 1) || !continuation(i + 2) || !continuation(i + 3))
      return 0;
    const uint8_t b1 = byte(i + 1);
    if ((b0 == 0xF0 && b1 < 0x90) || (b0 == 0xF4 && b1 >= 0x90)) // overlong, > U+10FFFF
      return 0;
    return 4;
  }
  return 0;
}

} // namespace heed
