// A file heed writes, through a std::ostream or directly, on a POSIX
// descriptor of its own so that every failure is reported with the path and
// the system's reason: "out.txt: write error: No space left on device", never
// a bare "write error". Writes are buffered (64 KiB) and go to the file on
// flush(), when the buffer fills, and on close().
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace heed::io {

class OutputFile {
public:
  enum class Mode {
    truncate, // create or empty the file
    append,   // create or append (resume)
    replace,  // a new file: the entry of that name, if any, is unlinked first
              // (a symlink planted there goes, not its target) and the file
              // created with O_EXCL | O_NOFOLLOW, so the write never follows
              // a link: for files inside output directories others may write to
  };

  // Opens `path`; IoError "PATH: cannot open for writing: <strerror>". "" and
  // "-" are standard output (left open on destruction).
  OutputFile(const std::string &path, Mode mode);
  // Closes the file if close() was not called (errors swallowed: call close()).
  ~OutputFile();
  OutputFile(const OutputFile &) = delete;
  OutputFile &operator=(const OutputFile &) = delete;

  std::ostream &stream() { return stream_; }
  void write(std::string_view bytes);
  // Writes `bytes` at `offset` (flushing first), leaving the append position
  // where it was: zip headers completed after their data.
  void write_at(uint64_t offset, std::string_view bytes);
  // Sends buffered bytes to the file; IoError "NAME: write error: <strerror>".
  void flush();
  // flush() and closes; IoError as flush() or "NAME: cannot close: <strerror>"
  // (a delayed write error of NFS, for instance).
  void close();

  int fd() const { return fd_; }
  // The path, or "standard output".
  const std::string &name() const { return name_; }
  bool is_standard_output() const { return standard_; }

private:
  class Buffer;
  [[noreturn]] void fail(const char *what, int error) const;

  std::string name_;
  int fd_ = -1;
  bool standard_ = false;
  bool closed_ = false;
  std::unique_ptr<Buffer> buffer_;
  std::ostream stream_;
};

} // namespace heed::io
