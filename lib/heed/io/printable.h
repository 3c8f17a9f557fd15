// Strings taken from a model file or an input (tensor names, vocabulary pieces)
// end up in error messages. A hostile file can put newlines, control bytes or
// megabytes into them; printable() makes such a string safe to quote in a
// one-line message.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace heed::io {

// `text` with control characters and bytes outside well-formed UTF-8 escaped
// (\n, \t, \xNN) and, past `max_bytes`, cut at a character boundary and ended
// with "...".
std::string printable(std::string_view text, size_t max_bytes = 120);

// The length of the longest prefix of `text` of at most `max_bytes` bytes that
// does not end inside a UTF-8 sequence.
size_t utf8_prefix_length(std::string_view text, size_t max_bytes);

} // namespace heed::io
