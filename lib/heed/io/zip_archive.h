// Read access to a zip archive through libzip (Debian's libzip-dev): the
// container of PyTorch's pytorch_model.bin (torch >= 1.6: ARCHIVE/data.pkl,
// ARCHIVE/data/N, ARCHIVE/version) and of numpy's .npz (Marian's model.npz).
// The archive is untrusted: it is opened with libzip's consistency checks,
// member names that are absolute or climb out with ".." are refused, every
// size is checked against the file before anything is allocated, and every
// member read is checked against its CRC-32.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct zip;
struct zip_file;

namespace heed::io {

class ZipArchive {
public:
  struct Member {
    std::string name;
    uint64_t index = 0;           // libzip's index
    uint64_t size = 0;            // uncompressed bytes
    uint64_t compressed_size = 0; // bytes in the file
    bool stored = true;           // false: deflated
  };

  // The first four bytes of a zip archive with at least one member ("PK\3\4")
  // or of an empty one ("PK\5\6"): how heed tells a zip pytorch_model.bin from
  // a legacy one.
  static bool has_zip_magic(const std::string &path);

  // Opens `path`; ModelError naming it when it is not a readable zip archive,
  // fails libzip's consistency checks, uses a compression other than stored
  // or deflate, claims sizes the file cannot hold, or has a member name that
  // is empty, absolute or contains a ".." component.
  explicit ZipArchive(const std::string &path);
  ~ZipArchive();
  ZipArchive(const ZipArchive &) = delete;
  ZipArchive &operator=(const ZipArchive &) = delete;

  const std::string &path() const { return path_; }
  uint64_t file_bytes() const { return file_bytes_; }
  const std::vector<Member> &members() const { return members_; }
  // The member named `name`, or null.
  const Member *find(const std::string &name) const;

  // The member's bytes, CRC-checked; ModelError naming archive and member when
  // the data is truncated, corrupt or fails its CRC.
  std::vector<uint8_t> read(const Member &member) const;
  // The same into `out`, which holds member.size bytes.
  void read_into(const Member &member, uint8_t *out) const;

  // A member read in order, piece by piece, for formats whose header says
  // where the rest goes (a .npy's values straight into their final buffer):
  // read() as often as needed, then finish(), which checks that nothing is
  // left and the CRC-32. Errors as read().
  class MemberReader {
  public:
    MemberReader(const ZipArchive &archive, const Member &member);
    ~MemberReader();
    MemberReader(const MemberReader &) = delete;
    MemberReader &operator=(const MemberReader &) = delete;
    // The next `n` bytes into `out`.
    void read(uint8_t *out, uint64_t n);
    void finish();
    uint64_t remaining() const { return member_.size - done_; }

  private:
    [[noreturn]] void fail(const std::string &what) const;
    const ZipArchive &archive_;
    const Member &member_;
    ::zip_file *file_ = nullptr;
    uint64_t done_ = 0;
  };

private:
  void read_members();

  std::string path_;
  uint64_t file_bytes_ = 0;
  struct zip *zip_ = nullptr;
  std::vector<Member> members_;
};

} // namespace heed::io
