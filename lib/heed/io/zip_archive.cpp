#include "heed/io/zip_archive.h"

#include <zip.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "heed/core/error.h"
#include "heed/io/printable.h"

namespace heed::io {
namespace {

// Deflate cannot expand data by more than about 1032 to 1: a member claiming
// more is a bomb (or a lie) and is refused before anything is allocated.
constexpr uint64_t kMaxDeflateRatio = 1032;

[[noreturn]] void fail(const std::string &path, const std::string &what) {
  throw ModelError(path + ": " + what);
}

std::string zip_error_text(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string text = zip_error_strerror(&error);
  zip_error_fini(&error);
  return text;
}

bool escapes(const std::string &name) {
  if (name.empty() || name.front() == '/' || name.front() == '\\')
    return true;
  for (const auto &part : std::filesystem::path(name))
    if (part == "..")
      return true;
  return false;
}

} // namespace

bool ZipArchive::has_zip_magic(const std::string &path) {
  std::unique_ptr<FILE, int (*)(FILE *)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  unsigned char magic[4] = {};
  if (!file || std::fread(magic, 1, 4, file.get()) != 4)
    return false;
  return magic[0] == 'P' && magic[1] == 'K' &&
         ((magic[2] == 3 && magic[3] == 4) || (magic[2] == 5 && magic[3] == 6));
}

ZipArchive::ZipArchive(const std::string &path) : path_(path) {
  std::error_code ec;
  file_bytes_ = std::filesystem::file_size(path, ec);
  if (ec)
    fail(path, "cannot read: " + ec.message());
  int code = 0;
  zip_ = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (!zip_)
    fail(path, "not a valid zip archive (" + zip_error_text(code) + ")");
  // The destructor does not run when the constructor throws: discard the
  // archive on every refusal below.
  try {
    read_members();
  } catch (...) {
    zip_discard(zip_);
    zip_ = nullptr;
    throw;
  }
}

void ZipArchive::read_members() {
  const std::string &path = path_;
  const zip_int64_t count = zip_get_num_entries(zip_, 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(zip_, static_cast<zip_uint64_t>(i), 0, &st) != 0)
      fail(path, "zip member " + std::to_string(i) + ": " + zip_strerror(zip_));
    const uint64_t wanted =
        ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
    if ((st.valid & wanted) != wanted)
      fail(path, "zip member " + std::to_string(i) + " has an incomplete directory entry");
    Member m;
    m.name = st.name;
    m.index = static_cast<uint64_t>(i);
    m.size = st.size;
    m.compressed_size = st.comp_size;
    if (escapes(m.name))
      fail(path, "zip member name '" + printable(m.name) +
                     "' is empty, absolute or leaves the archive with '..'");
    if (st.comp_method == ZIP_CM_STORE) {
      m.stored = true;
      if (m.size != m.compressed_size)
        fail(path, "zip member '" + printable(m.name) + "' is stored but its sizes differ (" +
                       std::to_string(m.size) + " and " + std::to_string(m.compressed_size) + ")");
    } else if (st.comp_method == ZIP_CM_DEFLATE) {
      m.stored = false;
      if (m.size / kMaxDeflateRatio > m.compressed_size)
        fail(path, "zip member '" + printable(m.name) + "' claims " + std::to_string(m.size) +
                       " bytes from " + std::to_string(m.compressed_size) +
                       " compressed: more than deflate can expand");
    } else {
      fail(path, "zip member '" + printable(m.name) + "' uses compression method " +
                     std::to_string(st.comp_method) + " (supported: stored, deflate)");
    }
    if (m.compressed_size > file_bytes_)
      fail(path, "zip member '" + printable(m.name) + "' claims " +
                     std::to_string(m.compressed_size) + " bytes, more than the file's " +
                     std::to_string(file_bytes_) + ": truncated download?");
    members_.push_back(std::move(m));
  }
}

ZipArchive::~ZipArchive() {
  if (zip_)
    zip_discard(zip_);
}

const ZipArchive::Member *ZipArchive::find(const std::string &name) const {
  for (const auto &m : members_)
    if (m.name == name)
      return &m;
  return nullptr;
}

std::vector<uint8_t> ZipArchive::read(const Member &member) const {
  std::vector<uint8_t> bytes(member.size);
  read_into(member, bytes.data());
  return bytes;
}

void ZipArchive::read_into(const Member &member, uint8_t *out) const {
  MemberReader reader(*this, member);
  reader.read(out, member.size);
  reader.finish();
}

ZipArchive::MemberReader::MemberReader(const ZipArchive &archive, const Member &member)
    : archive_(archive), member_(member) {
  file_ = zip_fopen_index(archive.zip_, member.index, 0);
  if (!file_)
    fail(zip_strerror(archive.zip_));
}

ZipArchive::MemberReader::~MemberReader() {
  if (file_)
    zip_fclose(file_);
}

void ZipArchive::MemberReader::fail(const std::string &what) const {
  throw ModelError(archive_.path_ + ": zip member '" + printable(member_.name) + "': " + what);
}

void ZipArchive::MemberReader::read(uint8_t *out, uint64_t n) {
  if (n > remaining())
    fail("holds " + std::to_string(member_.size) + " bytes, fewer than its format needs");
  uint64_t got_all = 0;
  while (got_all < n) {
    const zip_int64_t got = zip_fread(file_, out + got_all, n - got_all);
    if (got < 0)
      fail(zip_file_strerror(file_));
    if (got == 0)
      fail("truncated after " + std::to_string(done_ + got_all) + " of " +
           std::to_string(member_.size) + " bytes");
    got_all += static_cast<uint64_t>(got);
  }
  done_ += n;
}

void ZipArchive::MemberReader::finish() {
  if (remaining() != 0)
    fail(std::to_string(remaining()) + " bytes left unread");
  // libzip compares the CRC-32 when the data runs out: read to the end.
  unsigned char extra;
  const zip_int64_t more = zip_fread(file_, &extra, 1);
  if (more < 0)
    fail(zip_file_strerror(file_));
  if (more > 0)
    fail("holds more than the " + std::to_string(member_.size) + " bytes its directory entry says");
}

} // namespace heed::io
