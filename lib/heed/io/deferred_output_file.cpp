#include "heed/io/deferred_output_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "heed/core/error.h"
#include "heed/io/os_error.h"

namespace heed::io {
namespace {
constexpr size_t kHeldBytes = size_t{1} << 20;
} // namespace

DeferredOutputFile::DeferredOutputFile(std::string path, bool append)
    : path_(std::move(path)), append_(append) {}

DeferredOutputFile::~DeferredOutputFile() {
  if (fd_ >= 0)
    ::close(fd_);
}

bool DeferredOutputFile::write_pending() {
  if (closed_ && pending_.empty())
    return true; // a sink flushed after the file was closed: nothing to do
  if (closed_) {
    error_ = EBADF; // bytes written after close() would reopen and truncate the file
    return false;
  }
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append_ ? O_APPEND : O_TRUNC),
                 0666);
    if (fd_ < 0) {
      error_ = errno;
      return false;
    }
  }
  size_t done = 0;
  while (done < pending_.size()) {
    const ssize_t n = ::write(fd_, pending_.data() + done, pending_.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      error_ = errno;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  pending_.clear();
  return true;
}

DeferredOutputFile::int_type DeferredOutputFile::overflow(int_type c) {
  if (traits_type::eq_int_type(c, traits_type::eof()))
    return traits_type::not_eof(c);
  pending_.push_back(traits_type::to_char_type(c));
  if (pending_.size() >= kHeldBytes && !write_pending())
    return traits_type::eof();
  return c;
}

std::streamsize DeferredOutputFile::xsputn(const char *s, std::streamsize n) {
  pending_.append(s, static_cast<size_t>(n));
  if (pending_.size() >= kHeldBytes && !write_pending())
    return 0;
  return n;
}

int DeferredOutputFile::sync() { return write_pending() ? 0 : -1; }

void DeferredOutputFile::close() {
  if (closed_)
    return;
  if (!write_pending())
    throw IoError(os_error(path_, fd_ < 0 ? "cannot open for writing" : "write error", error_));
  const int fd = fd_;
  fd_ = -1;
  closed_ = true;
  if (::close(fd) != 0)
    throw IoError(os_error(path_, "write error"));
}

} // namespace heed::io
