// Cleaning of one input line before tokenization: a trailing "\r" (CRLF files)
// is dropped, invalid UTF-8 sequences and NUL bytes become U+FFFD so that no
// byte silently cuts or corrupts the rest of the line. The one policy every
// reader of text applies (translate, score, attention, bench), with one wording
// of its warnings and errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
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

// How lines read as input are made ready for the tokenizer.
struct InputLinePolicy {
  // Reject a line with invalid UTF-8 or a NUL byte (IoError) instead of
  // repairing it.
  bool strict = false;
  // Prefix of warnings and errors ("FILE: "); empty when the run has one input.
  std::string source;
  // Receives one line per repaired or cropped input line; may be empty.
  std::function<void(const std::string &)> warn;
  // Set once a line holding a carriage return that ends no line has been
  // reported: that is said once per input, not once per line.
  mutable bool carriage_return_reported = false;
};

// Applies `policy` to `line`, the 1-based `line_number` of its input:
// repairs it (warning "line N: 2 invalid UTF-8 byte(s) and 1 NUL byte(s)
// replaced by U+FFFD") or, when strict, throws IoError ("line N: invalid UTF-8
// or NUL byte (strict)"). `cropped_at` > 0 says that the reader cropped the line
// at that many bytes (warning "line N: longer than B bytes; cropped"). heed
// ends lines at "\n" only (CRLF accepted): a "\r" left inside a line means old
// Mac line ends or stray carriage returns, whose "lines" are translated as one;
// the first such line of an input is reported ("line N: holds a carriage
// return ...").
void prepare_input_line(std::string &line, int64_t line_number, const InputLinePolicy &policy,
                        size_t cropped_at = 0);

} // namespace heed
