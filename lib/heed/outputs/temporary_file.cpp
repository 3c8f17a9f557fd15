#include "heed/outputs/temporary_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "heed/core/error.h"

namespace heed {

TemporaryFile::TemporaryFile(std::string purpose)
    : purpose_(std::move(purpose)), file_(std::tmpfile()) {
  if (file_ == nullptr)
    throw IoError("cannot create a temporary file for " + purpose_ + ": " + std::strerror(errno));
}

TemporaryFile::~TemporaryFile() { std::fclose(file_); }

void TemporaryFile::write(std::string_view bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())
    throw IoError("cannot write " + purpose_ + " to a temporary file: " + std::strerror(errno));
  size_ += bytes.size();
  unflushed_ = true;
}

void TemporaryFile::read_all(const std::function<void(std::string_view)> &consume) {
  if (std::fflush(file_) != 0)
    throw IoError("cannot write " + purpose_ + " to a temporary file: " + std::strerror(errno));
  std::rewind(file_);
  std::vector<char> chunk(1 << 16);
  while (const size_t n = std::fread(chunk.data(), 1, chunk.size(), file_))
    consume(std::string_view(chunk.data(), n));
  if (std::ferror(file_))
    throw IoError("cannot read back " + purpose_ +
                  " from a temporary file: " + std::strerror(errno));
  std::fseek(file_, 0, SEEK_END); // further writes append
}

size_t TemporaryFile::read_at(uint64_t offset, char *out, size_t n) {
  if (unflushed_ && std::fflush(file_) != 0)
    throw IoError("cannot write " + purpose_ + " to a temporary file: " + std::strerror(errno));
  unflushed_ = false;
  for (;;) {
    const ssize_t got = ::pread(fileno(file_), out, n, static_cast<off_t>(offset));
    if (got >= 0)
      return static_cast<size_t>(got);
    if (errno != EINTR)
      throw IoError("cannot read back " + purpose_ +
                    " from a temporary file: " + std::strerror(errno));
  }
}

} // namespace heed
