// The input line decoder: repair_line() must leave well-formed UTF-8 without
// NUL bytes, change nothing in a line that is already clean, and be idempotent;
// is_valid_utf8() must agree with it. printable(), which quotes file contents
// in error messages, must give one line.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "heed/io/printable.h"
#include "heed/text/input_line.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string original(reinterpret_cast<const char *>(data), size);
  std::string base = original;
  if (!base.empty() && base.back() == '\r')
    base.pop_back();
  const bool clean = heed::is_valid_utf8(base) && base.find('\0') == std::string::npos;

  std::string line = original;
  const heed::LineRepairs repairs = heed::repair_line(line);
  FUZZ_CHECK(heed::is_valid_utf8(line));
  FUZZ_CHECK(line.find('\0') == std::string::npos);
  FUZZ_CHECK(repairs.any() == !clean);
  if (clean)
    FUZZ_CHECK(line == base);
  FUZZ_CHECK(repairs.invalid_sequences >= 0 && repairs.nul_bytes >= 0);
  FUZZ_CHECK(repairs.nul_bytes == static_cast<int>(std::count(base.begin(), base.end(), '\0')));

  // Idempotent, but for one more trailing "\r" (a line ending "\r\r").
  std::string again = line;
  FUZZ_CHECK(!heed::repair_line(again).any());
  FUZZ_CHECK(again == line || again + "\r" == line);

  const std::string shown = heed::io::printable(original, 64);
  FUZZ_CHECK(shown.find('\n') == std::string::npos && shown.find('\r') == std::string::npos);
  FUZZ_CHECK(shown.find('\0') == std::string::npos);
  FUZZ_CHECK(shown.size() <= 4 * 64 + 3);
  if (heed::is_valid_utf8(original))
    FUZZ_CHECK(heed::is_valid_utf8(shown));
  return 0;
}
