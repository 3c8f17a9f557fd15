#include "heed/decoding/streaming.h"

#include <chrono>

namespace heed {

bool read_line(std::istream &in, std::string &line) {
  if (!std::getline(in, line))
    return false;
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  return true;
}

StreamStats translate_stream(Translator &translator, std::istream &in, TranslationWriter &writer,
                             std::ostream &out, int64_t window) {
  const auto started = std::chrono::steady_clock::now();
  StreamStats stats;
  std::vector<std::string> lines;
  std::string line;
  bool more = true;
  while (more) {
    lines.clear();
    while (static_cast<int64_t>(lines.size()) < window && (more = read_line(in, line)))
      lines.push_back(line);
    if (lines.empty())
      break;
    const auto translations = translator.translate(lines);
    for (size_t i = 0; i < lines.size(); ++i) {
      writer.write(stats.lines + static_cast<int64_t>(i), lines[i], translations[i]);
      if (!translations[i].hypotheses.empty())
        stats.target_tokens += static_cast<int64_t>(translations[i].hypotheses[0].tokens.size());
    }
    out.flush();
    stats.lines += static_cast<int64_t>(lines.size());
  }
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return stats;
}

} // namespace heed
