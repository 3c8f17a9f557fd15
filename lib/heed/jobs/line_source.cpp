#include "heed/jobs/line_source.h"

#include <poll.h>

#include "heed/text/input_line.h"

namespace heed {

TextLineReader::TextLineReader(const std::string &path)
    : file_(path), reader_(file_.fd(), file_.name()) {}

bool TextLineReader::next(std::string &line, size_t &cropped_at) {
  while (stop_ != nullptr && !reader_.ready()) {
    if (stop_->load() != 0)
      return false;
    pollfd p{file_.fd(), POLLIN, 0};
    ::poll(&p, 1, 100);
  }
  if (!reader_.next(line))
    return false;
  cropped_at = reader_.cropped() ? reader_.max_line_bytes() : 0;
  return true;
}

bool VectorLineReader::next(std::string &line, size_t &cropped_at) {
  if (next_ == lines_.size())
    return false;
  line = std::move(lines_[next_++]);
  bytes_ += static_cast<int64_t>(line.size()) + 1;
  cropped_at = 0;
  return true;
}

std::vector<std::string> read_lines(const std::string &path,
                                    const std::function<void(const std::string &)> &warn,
                                    int64_t max_lines) {
  TextLineReader reader(path);
  InputLinePolicy policy;
  policy.source = reader.name() + ": ";
  policy.warn = warn;
  std::vector<std::string> lines;
  std::string line;
  size_t cropped_at = 0;
  while ((max_lines < 0 || static_cast<int64_t>(lines.size()) < max_lines) &&
         reader.next(line, cropped_at)) {
    prepare_input_line(line, static_cast<int64_t>(lines.size()) + 1, policy, cropped_at);
    lines.push_back(std::move(line));
  }
  return lines;
}

} // namespace heed
