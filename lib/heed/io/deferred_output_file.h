// An output file opened only when its first bytes are flushed (or at close()):
// a run that stops before it has anything to write, such as a line refused by
// --strict in the first window or a model that fails to load, leaves an
// existing file as it was. Bytes are held in memory until flush() (the
// translate loop flushes after each window) or until 1 MiB accumulates.
#pragma once

#include <cstddef>
#include <streambuf>
#include <string>

namespace heed::io {

class DeferredOutputFile : public std::streambuf {
public:
  // `append`: keep the file's content (resume); else it is truncated when opened.
  DeferredOutputFile(std::string path, bool append);
  // Discards what was not flushed: after an error, the file holds only what a
  // flush wrote, never the part of a window.
  ~DeferredOutputFile() override;
  DeferredOutputFile(const DeferredOutputFile &) = delete;
  DeferredOutputFile &operator=(const DeferredOutputFile &) = delete;

  // Opens the file if it is not open yet, writes what is held and closes it.
  // IoError naming the path and the reason when that fails.
  void close();
  // errno of the last failed open or write, 0 if none.
  int error() const { return error_; }

protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char *s, std::streamsize n) override;
  int sync() override;

private:
  bool write_pending();

  std::string path_;
  bool append_;
  int fd_ = -1;
  bool closed_ = false; // close() ran: a later flush with nothing held does nothing
  int error_ = 0;
  std::string pending_;
};

} // namespace heed::io
