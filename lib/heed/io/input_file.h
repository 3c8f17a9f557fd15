// An input opened for line reading: a file, or standard input for "" and "-".
// The descriptor is closed on destruction (standard input is left open).
#pragma once

#include <string>

namespace heed::io {

bool is_standard_stream(const std::string &path);

class InputFile {
public:
  // IoError naming the path when it cannot be opened or is a directory.
  explicit InputFile(const std::string &path);
  ~InputFile();
  InputFile(const InputFile &) = delete;
  InputFile &operator=(const InputFile &) = delete;

  int fd() const { return fd_; }
  // The name for messages: the path, or "standard input".
  const std::string &name() const { return name_; }

private:
  int fd_;
  std::string name_;
};

} // namespace heed::io
