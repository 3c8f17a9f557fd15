#include "heed/io/printable.h"

#include <cstdint>
#include <cstdio>

#include "heed/core/utf8.h"

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
      const size_t length = heed::utf8_sequence_length(text.substr(0, kept), i);
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
