// A zip archive written through libzip (Debian's libzip-dev), members STORED
// (uncompressed) the way numpy.savez writes .npz files, with UTF-8 names, a
// fixed timestamp (1980-01-01 00:00, so archives of the same maps are
// byte-identical from run to run) and rw-r--r-- Unix permissions.
//
// libzip writes the whole archive at close() (to a temporary file next to
// `path`, renamed onto it) and keeps each member's source until then. So that
// member data does not stay in memory, each member's bytes go to a scratch
// file (TemporaryFile) as they come and libzip reads them back from there at
// close(): disk, not memory, holds the data (std::tmpfile's directory, /tmp;
// a tmpfs there would hold it in memory after all), and the disk briefly holds
// it twice. libzip switches to zip64 records by itself (more than 65535 members,
// offsets or sizes past 4 GiB).
//
// The trade-off: libzip keeps every member's directory entry and source in
// memory until close(), so memory grows with the number of members. Measured
// with Debian 12's libzip 1.7.3 and names like "000123.cross.npy": about 480
// bytes per member for this class alone (70,000 members: 39 MB peak RSS), and
// 0.8 to 1 KB per member in `heed translate --attention x.npz`, where the
// writer's allocations interleave with the translation's (20,000 lines: 64 MB
// peak RSS instead of 47.7 MB). The hand-written writer this replaced spooled
// its central directory to disk and stayed flat (3.5 MB alone). Every byte is
// also written twice (scratch file, then archive): 2 to 4 times the old
// writer's time, still small next to translating.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "heed/outputs/temporary_file.h"

struct zip;

namespace heed {

class ZipWriter {
public:
  // Creates (or truncates) `path`, so that an unwritable path fails here, not
  // at close(); IoError naming it when it cannot.
  explicit ZipWriter(std::string path);
  // Finishes the archive if close() was not called; errors are swallowed here,
  // call close() to see them.
  ~ZipWriter();
  ZipWriter(const ZipWriter &) = delete;
  ZipWriter &operator=(const ZipWriter &) = delete;

  // Adds a member named `name` holding `data`.
  void add(const std::string &name, std::string_view data);

  // Adds a member whose data comes in several pieces: begin_member, then
  // append as often as needed, then end_member.
  void begin_member(const std::string &name);
  void append(std::string_view data);
  void end_member();

  // Has libzip write the archive; IoError naming the archive (and the member,
  // when one is at fault) on failure. An archive without members is not
  // written: libzip removes `path` instead.
  void close();

  const std::string &path() const { return path_; }

  // For the member sources handed to libzip (zip_writer.cpp).
  struct MemberSource;

private:
  friend struct MemberSource;

  [[noreturn]] void fail(const std::string &member, const std::string &what);

  std::string path_;
  struct zip *zip_ = nullptr;
  // Every member's bytes, one after the other, until libzip copies them.
  TemporaryFile spool_;
  std::string member_;            // the member begun and not yet ended
  uint64_t member_offset_ = 0;    // where its bytes start in spool_
  std::string read_error_;        // why libzip could not read a member back, for close()
  uint64_t read_error_index_ = 0; // and which member (libzip's index)
  bool in_member_ = false;
  bool closed_ = false;
};

} // namespace heed
