#include "heed/io/line_reader.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "heed/core/error.h"

namespace heed::io {

LineReader::LineReader(int fd, std::string name)
    : fd_(fd), name_(std::move(name)), buffer_(1 << 16) {}

bool LineReader::fill(bool wait) {
  if (eof_)
    return false;
  if (!wait) {
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, 0);
    if (r <= 0)
      return false;
  }
  // Compact, then grow when a single line fills the buffer.
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size())
    buffer_.resize(buffer_.size() * 2);
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

bool LineReader::ready() {
  for (;;) {
    if (std::memchr(buffer_.data() + begin_, '\n', end_ - begin_) != nullptr || eof_)
      return true;
    if (!fill(false))
      return eof_;
  }
}

bool LineReader::next(std::string &line) {
  for (;;) {
    const char *start = buffer_.data() + begin_;
    const void *newline = std::memchr(start, '\n', end_ - begin_);
    if (newline != nullptr) {
      const size_t length = static_cast<const char *>(newline) - start;
      line.assign(start, length);
      begin_ += length + 1;
      consumed_ += static_cast<int64_t>(length + 1);
      return true;
    }
    if (!fill(true)) {
      if (begin_ == end_)
        return false;
      line.assign(buffer_.data() + begin_, end_ - begin_);
      consumed_ += static_cast<int64_t>(end_ - begin_);
      begin_ = end_;
      return true;
    }
  }
}

} // namespace heed::io
