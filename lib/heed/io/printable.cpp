#include "heed/io/printable.h"

#include <cstdint>
#include <cstdio>

namespace heed::io {

size_t utf8_prefix_length(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes)
    return text.size();
  size_t length = max_bytes;
  // Back off over continuation bytes (10xxxxxx): at most 3 in well-formed text;
  // more means the bytes are not UTF-8 anyway, and the cut may stay where it is.
  for (int step = 0; step < 3 && length > 0; ++step) {
    if ((static_cast<uint8_t>(text[length]) & 0xC0) != 0x80)
      break;
    --length;
  }
  if ((static_cast<uint8_t>(text[length]) & 0xC0) == 0x80)
    return max_bytes;
  return length;
}

namespace {

// The length of the well-formed UTF-8 sequence starting at text[i] (2 to 4
// bytes, RFC 3629: no overlong forms, surrogates or code points past
// U+10FFFF), or 0 when the bytes there are not one.
size_t utf8_sequence_length(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t lead = byte(i);
  size_t length = 0;
  uint8_t low = 0x80, high = 0xBF; // the second byte's range
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    low = lead == 0xE0 ? 0xA0 : 0x80;
    high = lead == 0xED ? 0x9F : 0xBF;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    low = lead == 0xF0 ? 0x90 : 0x80;
    high = lead == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  if (i + length > text.size() || byte(i + 1) < low || byte(i + 1) > high)
    return 0;
  for (size_t k = i + 2; k < i + length; ++k)
    if ((byte(k) & 0xC0) != 0x80)
      return 0;
  return length;
}

void append_escaped(std::string &out, uint8_t c) {
  char escaped[8];
  std::snprintf(escaped, sizeof escaped, "\\x%02X", c);
  out += escaped;
}

} // namespace

std::string printable(std::string_view text, size_t max_bytes) {
  const size_t kept = utf8_prefix_length(text, max_bytes);
  std::string out;
  out.reserve(kept + 8);
  for (size_t i = 0; i < kept; ++i) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (c >= 0x80) {
      // Well-formed UTF-8 is kept; any other byte is escaped, so that a
      // message is text a terminal or a log can show.
      const size_t length = utf8_sequence_length(text.substr(0, kept), i);
      if (length == 0) {
        append_escaped(out, c);
      } else {
        out.append(text.substr(i, length));
        i += length - 1;
      }
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      append_escaped(out, c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (kept < text.size())
    out += "...";
  return out;
}

} // namespace heed::io
