#include "heed/decoding/streaming.h"

#include <vector>

#include "heed/core/error.h"
#include "heed/io/input_file.h"
#include "heed/text/input_line.h"

namespace heed {
namespace {

// Repairs a line per the options; warns or throws naming the 1-based line.
void clean(std::string &line, int64_t line_number, const StreamOptions &options) {
  if (options.strict_utf8) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (!is_valid_utf8(line) || line.find('\0') != std::string::npos)
      throw IoError("line " + std::to_string(line_number) +
                    ": invalid UTF-8 or NUL byte (--strict)");
    return;
  }
  const LineRepairs r = repair_line(line);
  if (r.any() && options.warn) {
    std::string what;
    if (r.invalid_sequences > 0)
      what = std::to_string(r.invalid_sequences) + " invalid UTF-8 byte(s)";
    if (r.nul_bytes > 0)
      what += (what.empty() ? "" : " and ") + std::to_string(r.nul_bytes) + " NUL byte(s)";
    options.warn("line " + std::to_string(line_number) + ": " + what + " replaced by U+FFFD");
  }
}

// heed splits lines at "\n" only (a CRLF end is accepted). A "\r" left inside
// a line means a file with old Mac line ends (or stray carriage returns): its
// "lines" would be translated as one, so this is said once per input.
void warn_carriage_return(const std::string &line, const std::string &where, bool &warned,
                          const std::function<void(const std::string &)> &warn) {
  if (warned || !warn || line.find('\r') == std::string::npos)
    return;
  warned = true;
  warn(where + ": holds a carriage return (\\r) that ends no line; heed ends lines at \\n "
               "only, so the text around it is translated as one line (convert old Mac line "
               "ends with tr '\\r' '\\n'); further such lines are not reported");
}

std::string cropped_line_warning(int64_t line_number, size_t max_bytes) {
  return "line " + std::to_string(line_number) + ": longer than " + std::to_string(max_bytes) +
         " bytes; cropped";
}

} // namespace

StreamStats translate_stream(Translator &translator, io::LineReader &in, TranslationWriter &writer,
                             const StreamOptions &options) {
  StreamStats stats;
  std::vector<std::string> lines;
  std::vector<int64_t> numbers; // 1-based input line numbers
  std::string line;
  int64_t input_line = 0;  // lines read from the input
  int64_t shard_lines = 0; // lines of this shard read
  bool warned_cr = false;
  bool more = true;
  while (more) {
    lines.clear();
    numbers.clear();
    const int64_t window_start = shard_lines;
    while (static_cast<int64_t>(lines.size()) < options.window) {
      // Translate what we have rather than wait for a line that is not there.
      if (!lines.empty() && !in.ready())
        break;
      if (!(more = in.next(line)))
        break;
      const int64_t number = ++input_line;
      if (!options.shard.contains(number - 1))
        continue;
      ++shard_lines;
      if (in.cropped() && options.warn)
        options.warn(cropped_line_warning(number, in.max_line_bytes()));
      clean(line, number, options);
      warn_carriage_return(line, "line " + std::to_string(number), warned_cr, options.warn);
      lines.push_back(std::move(line));
      numbers.push_back(number);
    }
    if (lines.empty())
      continue;
    // On resume, whole windows already written are skipped untranslated.
    if (window_start + static_cast<int64_t>(lines.size()) <= options.already_written) {
      stats.lines += static_cast<int64_t>(lines.size());
      if (options.progress)
        options.progress->advance(static_cast<int64_t>(lines.size()), 0, in.bytes_read());
      continue;
    }
    const auto on_batch = [&](int64_t sentences, int64_t tokens) {
      if (options.progress)
        options.progress->advance(sentences, tokens, in.bytes_read());
    };
    const auto translations = translator.translate(lines, &numbers, on_batch);
    for (size_t i = 0; i < lines.size(); ++i) {
      const int64_t position = window_start + static_cast<int64_t>(i);
      if (!translations[i].hypotheses.empty())
        stats.target_tokens += static_cast<int64_t>(translations[i].hypotheses[0].tokens.size());
      if (position < options.already_written)
        continue;
      writer.write(numbers[i] - 1, lines[i], translations[i]);
      if (options.on_translation)
        options.on_translation(numbers[i] - 1, lines[i], translations[i]);
    }
    if (options.flush)
      options.flush();
    stats.lines += static_cast<int64_t>(lines.size());
  }
  return stats;
}

} // namespace heed

namespace heed {

std::vector<std::string> read_text_lines(const std::string &path,
                                         const std::function<void(const std::string &)> &warn) {
  io::InputFile input(path);
  io::LineReader reader(input.fd(), input.name());
  std::vector<std::string> lines;
  std::string line;
  bool warned_cr = false;
  while (reader.next(line)) {
    if (reader.cropped() && warn)
      warn(reader.name() + ": " +
           cropped_line_warning(static_cast<int64_t>(lines.size()) + 1, reader.max_line_bytes()));
    const LineRepairs r = repair_line(line);
    if (r.any() && warn)
      warn(reader.name() + ": line " + std::to_string(lines.size() + 1) +
           ": invalid UTF-8 or NUL bytes replaced by U+FFFD");
    warn_carriage_return(line, reader.name() + ": line " + std::to_string(lines.size() + 1),
                         warned_cr, warn);
    lines.push_back(std::move(line));
  }
  return lines;
}

} // namespace heed
