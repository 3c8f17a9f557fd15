#include "heed/io/line_reader.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "heed/core/error.h"
#include "heed/io/printable.h"

namespace heed::io {

LineReader::LineReader(int fd, std::string name, size_t max_line_bytes)
    : fd_(fd), name_(std::move(name)), max_line_bytes_(std::max<size_t>(max_line_bytes, 1)),
      buffer_(std::min<size_t>(size_t{1} << 16, max_line_bytes_ + 1)) {}

bool LineReader::fill(bool wait) {
  if (eof_)
    return false;
  if (!wait) {
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, 0);
    if (r <= 0)
      return false;
  }
  // Compact, then grow when a single line fills the buffer. Callers crop a line
  // once more than max_line_bytes_ are buffered, so a full buffer is smaller
  // than max_line_bytes_ + 1 here and the growth is bounded by it.
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size())
    buffer_.resize(std::min(buffer_.size() * 2, max_line_bytes_ + 1));
  for (;;) {
    const ssize_t n = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
    if (n > 0) {
      end_ += static_cast<size_t>(n);
      return true;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    if (errno != EINTR)
      throw IoError(name_ + ": read error: " + std::strerror(errno));
  }
}

bool LineReader::drop_cropped_rest(bool wait) {
  while (dropping_) {
    const char *start = buffer_.data() + begin_;
    const void *newline = std::memchr(start, '\n', end_ - begin_);
    if (newline != nullptr) {
      const size_t length = static_cast<const char *>(newline) - start + 1;
      begin_ += length;
      consumed_ += static_cast<int64_t>(length);
      dropping_ = false;
      break;
    }
    consumed_ += static_cast<int64_t>(end_ - begin_);
    begin_ = end_ = 0;
    if (!fill(wait)) {
      if (!eof_)
        return false;
      dropping_ = false;
    }
  }
  return true;
}

void LineReader::take(std::string &line, size_t length, size_t consumed) {
  const char *start = buffer_.data() + begin_;
  cropped_ = length > max_line_bytes_;
  line.assign(start, cropped_ ? utf8_prefix_length(std::string_view(start, length), max_line_bytes_)
                              : length);
  begin_ += consumed;
  consumed_ += static_cast<int64_t>(consumed);
}

bool LineReader::ready() {
  if (!drop_cropped_rest(false))
    return false;
  for (;;) {
    const size_t available = end_ - begin_;
    if (eof_ || available > max_line_bytes_ ||
        std::memchr(buffer_.data() + begin_, '\n', available) != nullptr)
      return true;
    if (!fill(false))
      return eof_;
  }
}

bool LineReader::next(std::string &line) {
  cropped_ = false;
  drop_cropped_rest(true);
  for (;;) {
    const char *start = buffer_.data() + begin_;
    const size_t available = end_ - begin_;
    const void *newline = std::memchr(start, '\n', available);
    if (newline != nullptr) {
      const size_t length = static_cast<const char *>(newline) - start;
      take(line, length, length + 1);
      return true;
    }
    if (available > max_line_bytes_) {
      // Too long already: crop now, drop the rest of the line as it arrives.
      take(line, available, available);
      dropping_ = true;
      return true;
    }
    if (!fill(true)) {
      if (available == 0)
        return false;
      take(line, available, available);
      return true;
    }
  }
}

} // namespace heed::io
