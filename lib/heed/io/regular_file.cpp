#include "heed/io/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "heed/core/error.h"
#include "heed/io/printable.h"

namespace heed::io {
namespace {

const char *kind_of(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISSOCK(mode))
    return "a socket";
  return "not a plain file";
}

std::string bytes_text(uint64_t bytes) {
  if (bytes >= (uint64_t{1} << 20) && bytes % (uint64_t{1} << 20) == 0)
    return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

} // namespace

PathKind model_path_kind(const std::string &path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return PathKind::missing;
    throw ModelError(printable(path) + ": cannot access: " + std::strerror(errno));
  }
  if (S_ISREG(st.st_mode))
    return PathKind::regular;
  if (S_ISDIR(st.st_mode))
    return PathKind::directory;
  return PathKind::other;
}

RegularFile::RegularFile(const std::string &path, uint64_t max_bytes) : path_(path) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd_ < 0)
    throw ModelError(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    ::close(fd_);
    throw ModelError(path + ": cannot stat: " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw ModelError(path + ": not a regular file (" + kind_of(st.st_mode) + ")");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ > max_bytes) {
    ::close(fd_);
    throw ModelError(path + ": is " + std::to_string(size_) + " bytes, more than the " +
                     bytes_text(max_bytes) + " a file of its kind can hold");
  }
  // Regular files never block; clear the flag so reads behave as usual.
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
}

RegularFile::~RegularFile() {
  if (fd_ >= 0)
    ::close(fd_);
}

std::string RegularFile::read_all() const {
  std::string bytes(static_cast<size_t>(size_), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::pread(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      throw ModelError(path_ + ": read error: " + std::strerror(errno));
    }
    if (n == 0)
      break; // the file shrank since fstat()
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

std::string read_regular_file(const std::string &path, uint64_t max_bytes) {
  return RegularFile(path, max_bytes).read_all();
}

} // namespace heed::io
