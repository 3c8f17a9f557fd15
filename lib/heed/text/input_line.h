// Cleaning of one input line before tokenization: a trailing "\r" (CRLF files)
// is dropped, invalid UTF-8 sequences and NUL bytes become U+FFFD so that no
// byte silently cuts or corrupts the rest of the line.
#pragma once

#include <string>

namespace heed {

struct LineRepairs {
  int invalid_sequences = 0; // malformed UTF-8 sequences replaced
  int nul_bytes = 0;         // NUL bytes replaced
  bool any() const { return invalid_sequences > 0 || nul_bytes > 0; }
};

// Repairs `line` in place and says what was changed.
LineRepairs repair_line(std::string &line);

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or values
// past U+10FFFF).
bool is_valid_utf8(const std::string &text);

} // namespace heed
