// Reads lines from a file descriptor with its own buffer, so that a caller can
// ask whether another line is ready without blocking: a program that feeds heed
// one line at a time through a pipe gets each translation back at once, while
// files and busy pipes are read in large windows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace heed::io {

class LineReader {
public:
  // `name` is used in error messages ("standard input" or a path).
  LineReader(int fd, std::string name);

  // Next line without its "\n" (a trailing "\r" is kept: see text/input_line);
  // false at the end of the input. A last line without "\n" is still a line.
  bool next(std::string &line);
  // True when next() would return without waiting for more input.
  bool ready();
  // Bytes consumed so far (for progress estimates).
  int64_t bytes_read() const { return consumed_; }
  const std::string &name() const { return name_; }

private:
  // Reads more bytes; false at end of input. With `wait` false, reads only if
  // the descriptor has data now.
  bool fill(bool wait);

  int fd_;
  std::string name_;
  std::vector<char> buffer_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  int64_t consumed_ = 0;
};

} // namespace heed::io
