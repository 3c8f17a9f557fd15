#include "heed/io/output_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <streambuf>
#include <vector>

#include "heed/core/error.h"
#include "heed/io/input_file.h"
#include "heed/io/os_error.h"

namespace heed::io {

// A streambuf over a descriptor that remembers the errno of a failed write.
class OutputFile::Buffer : public std::streambuf {
public:
  explicit Buffer(int fd) : fd_(fd), bytes_(size_t{1} << 16) {
    setp(bytes_.data(), bytes_.data() + bytes_.size());
  }

  // 0 when everything buffered reached the file, else the errno of the failure.
  int drain() {
    if (error_ == 0 && !write_all(pbase(), static_cast<size_t>(pptr() - pbase())))
      return error_;
    setp(bytes_.data(), bytes_.data() + bytes_.size());
    return error_;
  }
  int error() const { return error_; }

  bool write_all(const char *data, size_t size) {
    while (size > 0 && error_ == 0) {
      const ssize_t n = ::write(fd_, data, size);
      if (n < 0) {
        if (errno != EINTR)
          error_ = errno;
        continue;
      }
      data += n;
      size -= static_cast<size_t>(n);
    }
    return error_ == 0;
  }

protected:
  int_type overflow(int_type c) override {
    if (drain() != 0)
      return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }

  std::streamsize xsputn(const char *data, std::streamsize n) override {
    if (n <= epptr() - pptr()) {
      std::memcpy(pptr(), data, static_cast<size_t>(n));
      pbump(static_cast<int>(n));
      return n;
    }
    if (drain() != 0 || !write_all(data, static_cast<size_t>(n)))
      return 0;
    return n;
  }

  int sync() override { return drain() == 0 ? 0 : -1; }

private:
  int fd_;
  std::vector<char> bytes_;
  int error_ = 0;
};

OutputFile::OutputFile(const std::string &path, Mode mode)
    : name_(is_standard_stream(path) ? "standard output" : path), stream_(nullptr) {
  if (is_standard_stream(path)) {
    fd_ = STDOUT_FILENO;
    standard_ = true;
  } else {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
    flags |= mode == Mode::truncate ? O_TRUNC
             : mode == Mode::append ? O_APPEND
                                    : O_EXCL | O_NOFOLLOW;
    if (mode == Mode::replace && ::unlink(path.c_str()) != 0 && errno != ENOENT)
      throw IoError(path + ": cannot replace: " + std::strerror(errno));
    fd_ = ::open(path.c_str(), flags, 0666);
    if (fd_ < 0)
      throw IoError(path + ": cannot open for writing: " + std::strerror(errno));
  }
  buffer_ = std::make_unique<Buffer>(fd_);
  stream_.rdbuf(buffer_.get());
}

OutputFile::~OutputFile() {
  try {
    close();
  } catch (...) {
  }
}

void OutputFile::fail(const char *what, int error) const {
  throw IoError(os_error(name_, what, error));
}

void OutputFile::write(std::string_view bytes) {
  stream_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (buffer_->error() != 0)
    fail("write error", buffer_->error());
}

void OutputFile::write_at(uint64_t offset, std::string_view bytes) {
  flush();
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      fail("write error", errno);
    }
    done += static_cast<size_t>(n);
  }
}

void OutputFile::flush() {
  if (closed_)
    return;
  if (const int error = buffer_->drain(); error != 0)
    fail("write error", error);
}

void OutputFile::close() {
  if (closed_)
    return;
  const int error = buffer_->drain();
  closed_ = true;
  if (standard_) {
    if (error != 0)
      fail("write error", error);
    return;
  }
  const int closed = ::close(fd_);
  const int close_error = errno;
  if (error != 0)
    fail("write error", error);
  if (closed != 0)
    fail("cannot close", close_error);
}

} // namespace heed::io
