#include "heed/text/input_line.h"

#include <cstdint>

#include "heed/core/error.h"
#include "heed/core/utf8.h"

namespace heed {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD"; // U+FFFD

} // namespace

bool is_valid_utf8(const std::string &text) {
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_sequence_length(text, i);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

LineRepairs repair_line(std::string &line) {
  LineRepairs repairs;
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  bool clean = true;
  for (size_t i = 0; i < line.size() && clean; ++i)
    clean = static_cast<uint8_t>(line[i]) >= 0x01 && static_cast<uint8_t>(line[i]) < 0x80;
  if (clean)
    return repairs; // plain ASCII, the common case
  std::string out;
  out.reserve(line.size() + 8);
  for (size_t i = 0; i < line.size();) {
    if (line[i] == '\0') {
      out += kReplacement;
      ++repairs.nul_bytes;
      ++i;
      continue;
    }
    const size_t n = utf8_sequence_length(line, i);
    if (n == 0) {
      // One replacement per maximal invalid byte, as most decoders do.
      out += kReplacement;
      ++repairs.invalid_sequences;
      ++i;
      continue;
    }
    out.append(line, i, n);
    i += n;
  }
  line = std::move(out);
  return repairs;
}

void prepare_input_line(std::string &line, int64_t line_number, const InputLinePolicy &policy,
                        size_t cropped_at) {
  const std::string where = policy.source + "line " + std::to_string(line_number) + ": ";
  if (cropped_at > 0 && policy.warn)
    policy.warn(where + "longer than " + std::to_string(cropped_at) + " bytes; cropped");
  if (policy.strict) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (!is_valid_utf8(line) || line.find('\0') != std::string::npos)
      throw IoError(where + "invalid UTF-8 or NUL byte (strict)");
    return;
  }
  const LineRepairs r = repair_line(line);
  if (policy.warn && !policy.carriage_return_reported && line.find('\r') != std::string::npos) {
    policy.carriage_return_reported = true;
    policy.warn(where + "holds a carriage return (\\r) that ends no line; heed ends lines at "
                        "\\n only, so the text around it is translated as one line (convert old "
                        "Mac line ends with tr '\\r' '\\n'); further such lines are not reported");
  }
  if (!r.any() || !policy.warn)
    return;
  std::string what;
  if (r.invalid_sequences > 0)
    what = std::to_string(r.invalid_sequences) + " invalid UTF-8 byte(s)";
  if (r.nul_bytes > 0)
    what += (what.empty() ? "" : " and ") + std::to_string(r.nul_bytes) + " NUL byte(s)";
  policy.warn(where + what + " replaced by U+FFFD");
}

} // namespace heed
