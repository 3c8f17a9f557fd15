#include "heed/io/output_resume.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "heed/core/error.h"

namespace heed::io {

CompleteOutputs count_complete_outputs(const std::string &path, int64_t lines_per_input) {
  CompleteOutputs counted;
  if (!std::filesystem::exists(path))
    return counted;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw IoError(path + ": cannot open to resume: " + std::strerror(errno));
  std::vector<char> buffer(1 << 20);
  int64_t lines = 0;
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
        counted.bytes = counted.size + i + 1;
    counted.size += n;
  }
  ::close(fd);
  counted.inputs = lines / lines_per_input;
  return counted;
}

int64_t truncate_to_complete_outputs(const std::string &path, int64_t lines_per_input) {
  const CompleteOutputs counted = count_complete_outputs(path, lines_per_input);
  if (counted.bytes != counted.size) {
    std::error_code ec;
    std::filesystem::resize_file(path, static_cast<uintmax_t>(counted.bytes), ec);
    if (ec)
      throw IoError(path + ": cannot truncate the partial output: " + ec.message());
  }
  return counted.inputs;
}

} // namespace heed::io
