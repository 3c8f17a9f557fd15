#include "heed/io/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "heed/core/error.h"
#include "heed/io/os_error.h"

namespace heed::io {

bool is_standard_stream(const std::string &path) { return path.empty() || path == "-"; }

InputFile::InputFile(const std::string &path)
    : fd_(STDIN_FILENO), name_(is_standard_stream(path) ? "standard input" : path) {
  if (is_standard_stream(path))
    return;
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0)
    throw IoError(os_error(path, "cannot open for reading"));
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd_);
    throw IoError(path + ": is a directory, not a text file");
  }
}

InputFile::~InputFile() {
  if (fd_ != STDIN_FILENO)
    ::close(fd_);
}

} // namespace heed::io
