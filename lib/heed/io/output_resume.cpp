#include "heed/io/output_resume.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "heed/core/error.h"

namespace heed::io {

int64_t truncate_to_complete_outputs(const std::string &path, int64_t lines_per_input) {
  if (!std::filesystem::exists(path))
    return 0;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw IoError(path + ": cannot open to resume: " + std::strerror(errno));
  std::vector<char> buffer(1 << 20);
  int64_t offset = 0, lines = 0, keep = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR)
        continue;
      const int err = errno;
      ::close(fd);
      throw IoError(path + ": read error: " + std::strerror(err));
    }
    if (n == 0)
      break;
    for (ssize_t i = 0; i < n; ++i)
      if (buffer[i] == '\n' && ++lines % lines_per_input == 0)
        keep = offset + i + 1;
    offset += n;
  }
  ::close(fd);
  if (keep != offset) {
    std::error_code ec;
    std::filesystem::resize_file(path, static_cast<uintmax_t>(keep), ec);
    if (ec)
      throw IoError(path + ": cannot truncate the partial output: " + ec.message());
  }
  return lines / lines_per_input;
}

} // namespace heed::io
