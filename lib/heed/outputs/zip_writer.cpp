#include "heed/outputs/zip_writer.h"

#include "heed/core/error.h"
#include "heed/io/os_error.h"
#include "heed/outputs/crc32.h"

namespace heed {

namespace {

constexpr uint16_t kVersionNeeded = 20;      // 2.0: plain stored members
constexpr uint16_t kVersionNeededZip64 = 45; // 4.5: zip64 records
// Made by "Unix" so that unzip gives the members ordinary rw-r--r-- permissions.
constexpr uint16_t kMadeByUnix = 3 << 8;
constexpr uint32_t kUnixRegularFile0644 = 0100644u << 16;
constexpr uint16_t kUtf8Names = 1 << 11;
// A fixed timestamp (1980-01-01 00:00, the earliest DOS date) keeps archives of
// the same maps byte-identical from run to run.
constexpr uint16_t kDosTime = 0;
constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;
constexpr size_t kCrcOffsetInLocalHeader = 14;
constexpr uint16_t kZip64ExtraTag = 0x0001;
constexpr uint32_t kMaxMembersZip32 = 0xffff;

void put16(std::string &s, uint64_t v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>((v >> 8) & 0xff);
}

void put32(std::string &s, uint64_t v) {
  put16(s, v & 0xffff);
  put16(s, (v >> 16) & 0xffff);
}

void put64(std::string &s, uint64_t v) {
  put32(s, v & 0xffffffffu);
  put32(s, v >> 32);
}

} // namespace

ZipWriter::ZipWriter(std::string path, uint64_t zip64_from)
    : path_(std::move(path)), zip64_from_(zip64_from) {
  out_ = std::make_unique<io::OutputFile>(path_, io::OutputFile::Mode::truncate);
  directory_ = std::make_unique<TemporaryFile>("the zip directory of " + path_);
}

ZipWriter::~ZipWriter() {
  try {
    close();
  } catch (...) {
    // Destructors must not throw; close() reports errors to callers that ask.
  }
}

void ZipWriter::write(std::string_view bytes) {
  out_->write(bytes);
  offset_ += bytes.size();
}

std::string ZipWriter::local_header(const Member &m) const {
  std::string h;
  put32(h, 0x04034b50);
  put16(h, needs_zip64(m.header_offset) ? kVersionNeededZip64 : kVersionNeeded);
  put16(h, kUtf8Names);
  put16(h, 0); // stored
  put16(h, kDosTime);
  put16(h, kDosDate);
  put32(h, m.crc);
  put32(h, m.size); // compressed size
  put32(h, m.size); // uncompressed size
  put16(h, m.name.size());
  put16(h, 0); // extra field length: sizes always fit, only offsets may not
  h += m.name;
  return h;
}

std::string ZipWriter::central_header(const Member &m) const {
  const bool zip64 = needs_zip64(m.header_offset);
  const uint16_t version = zip64 ? kVersionNeededZip64 : kVersionNeeded;
  std::string h;
  put32(h, 0x02014b50);
  put16(h, kMadeByUnix | version);
  put16(h, version);
  put16(h, kUtf8Names);
  put16(h, 0); // stored
  put16(h, kDosTime);
  put16(h, kDosDate);
  put32(h, m.crc);
  put32(h, m.size);
  put32(h, m.size);
  put16(h, m.name.size());
  put16(h, zip64 ? 12 : 0); // extra field length
  put16(h, 0);              // comment length
  put16(h, 0);              // disk number
  put16(h, 0);              // internal attributes
  put32(h, kUnixRegularFile0644);
  // Past the zip32 range the offset moves to the zip64 extra field.
  put32(h, zip64 ? 0xffffffffu : m.header_offset);
  h += m.name;
  if (zip64) {
    put16(h, kZip64ExtraTag);
    put16(h, 8);
    put64(h, m.header_offset);
  }
  return h;
}

std::string ZipWriter::end_of_directory(uint64_t directory_offset, uint64_t directory_size) const {
  const uint64_t count = members_;
  const bool zip64 =
      count > kMaxMembersZip32 || needs_zip64(directory_offset) || needs_zip64(directory_size);
  std::string e;
  if (zip64) {
    const uint64_t record_offset = directory_offset + directory_size;
    put32(e, 0x06064b50); // zip64 end of central directory record
    put64(e, 44);         // size of the rest of the record
    put16(e, kMadeByUnix | kVersionNeededZip64);
    put16(e, kVersionNeededZip64);
    put32(e, 0); // this disk
    put32(e, 0); // disk with the directory
    put64(e, count);
    put64(e, count);
    put64(e, directory_size);
    put64(e, directory_offset);
    put32(e, 0x07064b50); // zip64 end of central directory locator
    put32(e, 0);          // disk with the zip64 record
    put64(e, record_offset);
    put32(e, 1); // number of disks
  }
  put32(e, 0x06054b50);
  put16(e, 0); // this disk
  put16(e, 0); // disk with the directory
  put16(e, zip64 ? kMaxMembersZip32 : count);
  put16(e, zip64 ? kMaxMembersZip32 : count);
  put32(e, zip64 ? 0xffffffffu : directory_size);
  put32(e, zip64 ? 0xffffffffu : directory_offset);
  put16(e, 0); // comment length
  return e;
}

void ZipWriter::add(const std::string &name, std::string_view data) {
  begin_member(name);
  append(data);
  end_member();
}

void ZipWriter::begin_member(const std::string &name) {
  if (closed_ || in_member_)
    throw Error(path_ + ": zip member '" + name + "' added after close or inside another");
  if (name.size() > 0xffff)
    throw IoError(path_ + ": zip member name too long: " + name.substr(0, 64) + "...");
  current_ = Member{name, 0, 0, offset_};
  write(local_header(current_));
  in_member_ = true;
}

void ZipWriter::append(std::string_view data) {
  Member &m = current_;
  if (m.size + data.size() > kZip32Limit)
    throw IoError(path_ + ": zip member '" + m.name + "' would exceed 4 GiB");
  m.crc = crc32(data, m.crc);
  m.size += data.size();
  write(data);
}

void ZipWriter::end_member() {
  in_member_ = false;
  const Member &m = current_;
  // The header went out before the data; fill in what is known now.
  std::string fields;
  put32(fields, m.crc);
  put32(fields, m.size);
  put32(fields, m.size);
  out_->write_at(m.header_offset + kCrcOffsetInLocalHeader, fields);
  directory_->write(central_header(m));
  ++members_;
}

void ZipWriter::close() {
  if (closed_)
    return;
  closed_ = true;
  if (in_member_)
    end_member();
  const uint64_t directory_offset = offset_;
  directory_->read_all([this](std::string_view bytes) { write(bytes); });
  write(end_of_directory(directory_offset, directory_->size()));
  out_->close();
}

} // namespace heed
