// Reads lines from a file descriptor with its own buffer, so that a caller can
// ask whether another line is ready without blocking: a program that feeds heed
// one line at a time through a pipe gets each translation back at once, while
// files and busy pipes are read in large windows.
//
// Memory stays bounded whatever the input: a line longer than the maximum is
// cropped (at a character boundary) and the rest of it is read and dropped, so
// that it still counts as one line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace heed::io {

class LineReader {
public:
  // Longest line kept by default. A sentence is far shorter, and a model reads
  // at most max_position_embeddings tokens of it anyway; what matters is the
  // cost of a hostile line: SentencePiece takes about 100 bytes of memory per
  // input byte, and a window holds hundreds of lines.
  static constexpr size_t kDefaultMaxLineBytes = size_t{1} << 20;

  // `name` is used in error messages ("standard input" or a path).
  LineReader(int fd, std::string name, size_t max_line_bytes = kDefaultMaxLineBytes);

  // Next line without its "\n" (a trailing "\r" is kept: see text/input_line);
  // false at the end of the input. A last line without "\n" is still a line.
  bool next(std::string &line);
  // True when the line next() just returned was longer than max_line_bytes()
  // and has been cropped.
  bool cropped() const { return cropped_; }
  // True when next() would return without waiting for more input.
  bool ready();
  // Bytes consumed so far (for progress estimates).
  int64_t bytes_read() const { return consumed_; }
  const std::string &name() const { return name_; }
  size_t max_line_bytes() const { return max_line_bytes_; }

private:
  // Reads more bytes; false at end of input. With `wait` false, reads only if
  // the descriptor has data now.
  bool fill(bool wait);
  // Drops the rest of a cropped line; false when its end has not arrived yet
  // (only with `wait` false).
  bool drop_cropped_rest(bool wait);
  // Returns the first `length` buffered bytes as a line (cropped if too long)
  // and consumes `consumed` bytes.
  void take(std::string &line, size_t length, size_t consumed);

  int fd_;
  std::string name_;
  size_t max_line_bytes_;
  std::vector<char> buffer_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  bool cropped_ = false;
  bool dropping_ = false; // the rest of a cropped line is still to be dropped
  int64_t consumed_ = 0;
};

} // namespace heed::io
