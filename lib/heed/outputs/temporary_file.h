// An anonymous scratch file (std::tmpfile) for output that is known only at
// the end but must not grow memory with the corpus: a zip central directory,
// an index. The system removes it however the process ends.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace heed {

class TemporaryFile {
public:
  // `purpose` names what the file holds, for error messages ("the index of x.npz").
  explicit TemporaryFile(std::string purpose);
  ~TemporaryFile();
  TemporaryFile(const TemporaryFile &) = delete;
  TemporaryFile &operator=(const TemporaryFile &) = delete;

  void write(std::string_view bytes);
  // Bytes written so far.
  uint64_t size() const { return size_; }
  // Reads everything written, from the start, in chunks passed to `consume`.
  void read_all(const std::function<void(std::string_view)> &consume);
  // Reads up to `n` bytes at `offset` into `out` without moving the write
  // position; returns how many it read (0 at the end).
  size_t read_at(uint64_t offset, char *out, size_t n);

private:
  std::string purpose_;
  std::FILE *file_ = nullptr;
  uint64_t size_ = 0;
  bool unflushed_ = false;
};

} // namespace heed
