#include "heed/jobs/streaming.h"

#include "heed/core/error.h"

#include <string>
#include <vector>

namespace heed {
namespace {

// Thrown from the batch callback to leave Translator::translate() when a stop
// is requested; caught below.
struct StopRequested {};

bool stop_requested(const StreamOptions &options) {
  return options.stop != nullptr && options.stop->load() != 0;
}

} // namespace

namespace {

// The target prefix of input line `number` (1-based).
void next_prefix(const StreamOptions &options, int64_t number, std::string &prefix) {
  size_t cropped_at = 0;
  if (!options.prefixes->next(prefix, cropped_at))
    throw IoError(options.prefixes_name + ": ends after line " + std::to_string(number - 1) +
                  ", but the input has a line " + std::to_string(number) +
                  ": one target prefix per input line (an empty line for none)");
  if (!prefix.empty() && prefix.back() == '\r')
    prefix.pop_back();
  if (cropped_at > 0 || !is_valid_utf8(prefix) || prefix.find('\0') != std::string::npos)
    throw IoError(options.prefixes_name + ": line " + std::to_string(number) +
                  (cropped_at > 0 ? ": too long for a target prefix"
                                  : ": not UTF-8 text (a target prefix is text)"));
}

} // namespace

StreamStats translate_stream(Translator &translator, LineSource &in, TranslationSink &sink,
                             const StreamOptions &options) {
  StreamStats stats;
  std::vector<std::string> lines, prefixes;
  std::vector<int64_t> numbers; // 1-based input line numbers
  std::string prefix;
  std::string line;
  size_t cropped_at = 0;
  int64_t input_line = 0;  // lines read from the input
  int64_t shard_lines = 0; // lines of this shard read
  bool more = true;
  while (more) {
    if (stop_requested(options)) {
      stats.stopped = true;
      break;
    }
    lines.clear();
    numbers.clear();
    prefixes.clear();
    const int64_t window_start = shard_lines;
    while (static_cast<int64_t>(lines.size()) < options.window) {
      // Translate what we have rather than wait for a line that is not there.
      if (!lines.empty() && !in.ready())
        break;
      if (!(more = in.next(line, cropped_at)))
        break;
      const int64_t number = ++input_line;
      if (options.prefixes)
        next_prefix(options, number, prefix);
      if (!options.shard.contains(number - 1))
        continue;
      if (options.prefixes)
        prefixes.push_back(std::move(prefix));
      ++shard_lines;
      prepare_input_line(line, number, options.input, cropped_at);
      lines.push_back(std::move(line));
      numbers.push_back(number);
    }
    if (lines.empty())
      continue;
    // On resume, whole windows already written are skipped untranslated.
    if (window_start + static_cast<int64_t>(lines.size()) <= options.already_written) {
      stats.lines += static_cast<int64_t>(lines.size());
      if (options.progress)
        options.progress->skip(static_cast<int64_t>(lines.size()), in.bytes_read());
      continue;
    }
    const auto on_batch = [&](int64_t sentences, int64_t tokens) {
      if (options.progress)
        options.progress->advance(sentences, tokens, in.bytes_read());
      if (stop_requested(options))
        throw StopRequested();
    };
    std::vector<Translation> translations;
    try {
      translations =
          translator.translate(lines, &numbers, on_batch, options.prefixes ? &prefixes : nullptr);
    } catch (const StopRequested &) {
      stats.stopped = true;
      break;
    }
    if (options.progress)
      options.progress->before_output();
    for (size_t i = 0; i < lines.size(); ++i) {
      const int64_t position = window_start + static_cast<int64_t>(i);
      if (!translations[i].hypotheses.empty())
        stats.target_tokens += static_cast<int64_t>(translations[i].hypotheses[0].tokens.size());
      if (position < options.already_written)
        continue;
      sink.write(numbers[i] - 1, lines[i], translations[i]);
      ++stats.written;
    }
    sink.flush();
    stats.lines += static_cast<int64_t>(lines.size());
  }
  if (options.prefixes && !stats.stopped && options.prefixes->next(prefix, cropped_at))
    throw IoError(options.prefixes_name + ": has more lines than the input's " +
                  std::to_string(input_line) + ": one target prefix per input line");
  return stats;
}

} // namespace heed
