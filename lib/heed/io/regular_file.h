// Opening the files of a model directory safely. A model directory is data
// someone else may have prepared: any of its names can be a FIFO (open() would
// block forever), a device such as /dev/zero behind a symlink (a read would
// never end), a directory, a symlink loop or a file far larger than its kind
// can be. Every model file is therefore opened without blocking, checked to be
// a regular file with fstat() before a byte is read, and read only up to a
// bound proportional to what a file of its kind can legitimately hold. Every
// refusal is a ModelError naming the path (and strerror where the system gave
// a reason).
#pragma once

#include <cstdint>
#include <string>

namespace heed::io {

// Size bounds per kind of model file, far above any real model's and far
// below what would exhaust memory: config.json and generation_config.json hold
// a few dozen fields (the largest real ones, with id2label tables, are tens of
// KB); vocab.json maps at most a few hundred thousand pieces to ids (a 250k
// vocabulary is about 6 MB); a SentencePiece model of such a vocabulary is
// about 5 MB. Weight files are memory-mapped, never read into memory, and are
// bounded only by what the file holds.
inline constexpr uint64_t kMaxConfigFileBytes = uint64_t{4} << 20;
inline constexpr uint64_t kMaxVocabularyFileBytes = uint64_t{64} << 20;
inline constexpr uint64_t kMaxSentencePieceFileBytes = uint64_t{64} << 20;
inline constexpr uint64_t kUnboundedFileBytes = UINT64_MAX;

// What a path names, following symlinks.
enum class PathKind { missing, regular, directory, other };

// stat() of `path` as a PathKind: ENOENT and ENOTDIR give missing; any other
// failure (a symlink loop, a name too long, permission denied on a parent) is
// a ModelError naming the path and the system's reason.
PathKind model_path_kind(const std::string &path);

// A regular file open for reading (the descriptor is closed on destruction).
class RegularFile {
public:
  // Opens `path` with O_NONBLOCK (a FIFO cannot block the open) and checks with
  // fstat() that it is a regular file of at most `max_bytes`; ModelError naming
  // the path otherwise ("not a regular file (a FIFO)", "is N bytes, more than
  // ...", "cannot open: <strerror>").
  RegularFile(const std::string &path, uint64_t max_bytes);
  ~RegularFile();
  RegularFile(const RegularFile &) = delete;
  RegularFile &operator=(const RegularFile &) = delete;

  int fd() const { return fd_; }
  uint64_t size() const { return size_; }
  const std::string &path() const { return path_; }
  // The whole file (its size at open time, which a file growing meanwhile
  // cannot exceed); ModelError naming the path on a read error.
  std::string read_all() const;

private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// RegularFile(path, max_bytes).read_all().
std::string read_regular_file(const std::string &path, uint64_t max_bytes);

} // namespace heed::io
