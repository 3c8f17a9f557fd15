// A zip archive written as it goes, members STORED (uncompressed) the way
// numpy.savez writes .npz files: each member's local header and data go to the
// file when the member is added, and the central directory entries wait in a
// temporary file until close() appends them, so memory does not grow with the
// number of members. A corpus easily passes 65535 members or
// 4 GiB, so the central directory switches to zip64 records when needed (as
// Python's zipfile, numpy and unzip read them); a single member must stay
// under 4 GiB, which one sentence's maps do by far.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "heed/io/output_file.h"
#include "heed/outputs/temporary_file.h"

namespace heed {

class ZipWriter {
public:
  // Offsets and sizes from which zip64 records are used: the zip32 maximum.
  static constexpr uint64_t kZip32Limit = 0xffffffffu;

  // Creates (or truncates) `path`; IoError when it cannot. `zip64_from` is
  // lowered only by tests, to check zip64 records without writing 4 GiB.
  explicit ZipWriter(std::string path, uint64_t zip64_from = kZip32Limit);
  // Finishes the archive if close() was not called; errors are swallowed here,
  // call close() to see them.
  ~ZipWriter();
  ZipWriter(const ZipWriter &) = delete;
  ZipWriter &operator=(const ZipWriter &) = delete;

  // Adds a member named `name` holding `data`.
  void add(const std::string &name, std::string_view data);

  // Adds a member whose data comes in several pieces: begin_member, then
  // append as often as needed, then end_member (which goes back to fill in the
  // local header's CRC and sizes, so the output must be a regular file).
  void begin_member(const std::string &name);
  void append(std::string_view data);
  void end_member();

  // Writes the central directory and closes the file; IoError on failure.
  void close();

  const std::string &path() const { return path_; }

private:
  struct Member {
    std::string name;
    uint32_t crc = 0;
    uint64_t size = 0;
    uint64_t header_offset = 0;
  };

  void write(std::string_view bytes);
  bool needs_zip64(uint64_t value) const { return value >= zip64_from_; }
  std::string local_header(const Member &m) const;
  std::string central_header(const Member &m) const;
  std::string end_of_directory(uint64_t directory_offset, uint64_t directory_size) const;

  std::string path_;
  uint64_t zip64_from_;
  std::unique_ptr<io::OutputFile> out_;
  uint64_t offset_ = 0;
  Member current_;
  uint64_t members_ = 0;
  std::unique_ptr<TemporaryFile> directory_;
  bool in_member_ = false;
  bool closed_ = false;
};

} // namespace heed
