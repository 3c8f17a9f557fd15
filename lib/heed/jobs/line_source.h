// Where the lines to translate come from, as CTranslate2's batch_reader.h has
// TextLineReader and VectorReader: a file or standard input read as it
// arrives, or sentences held in memory (given as arguments). The translate
// loop (streaming.h) reads both the same way, so sentences given as arguments
// are repaired, windowed and batched exactly like the lines of a file.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "heed/io/input_file.h"
#include "heed/io/line_reader.h"

namespace heed {

class LineSource {
public:
  virtual ~LineSource() = default;
  // The next line as read, not yet repaired (text/input_line.h does that);
  // false at the end. `cropped_at` is set to the byte limit the line was
  // cropped at, or 0.
  virtual bool next(std::string &line, size_t &cropped_at) = 0;
  // True when next() would return without waiting for more input.
  virtual bool ready() = 0;
  // Input bytes consumed so far, for progress estimates.
  virtual int64_t bytes_read() const = 0;
};

// Lines of a file, or of standard input for "" and "-" (io::LineReader: long
// lines cropped, lines taken as they arrive).
class TextLineReader : public LineSource {
public:
  // IoError naming the path when it cannot be opened or is a directory.
  explicit TextLineReader(const std::string &path);
  bool next(std::string &line, size_t &cropped_at) override;
  bool ready() override { return reader_.ready(); }
  int64_t bytes_read() const override { return reader_.bytes_read(); }
  // The path, or "standard input".
  const std::string &name() const { return file_.name(); }
  int fd() const { return file_.fd(); }
  // While no line is ready, next() checks `stop` every 0.1 s and returns false
  // (the end) once it holds a non-zero value: a run waiting for a person or a
  // pipe to send the next line ends promptly on Ctrl-C.
  void stop_on(const std::atomic<int> *stop) { stop_ = stop; }

private:
  io::InputFile file_;
  io::LineReader reader_;
  const std::atomic<int> *stop_ = nullptr;
};

// Lines held in memory, all ready at once.
class VectorLineReader : public LineSource {
public:
  explicit VectorLineReader(std::vector<std::string> lines) : lines_(std::move(lines)) {}
  bool next(std::string &line, size_t &cropped_at) override;
  bool ready() override { return next_ < lines_.size(); }
  int64_t bytes_read() const override { return bytes_; }

private:
  std::vector<std::string> lines_;
  size_t next_ = 0;
  int64_t bytes_ = 0;
};

// The lines of a file ("" or "-": standard input), repaired by the input line
// policy (text/input_line.h) with warnings naming the file and line; only the
// first `max_lines` when that is not negative (the rest is not read).
std::vector<std::string> read_lines(const std::string &path,
                                    const std::function<void(const std::string &)> &warn,
                                    int64_t max_lines = -1);

} // namespace heed
