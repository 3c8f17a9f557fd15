#include "heed/outputs/zip_writer.h"

#include <zip.h>

#include <algorithm>
#include <ctime>
#include <exception>

#include "heed/core/error.h"
#include "heed/io/output_file.h"

namespace heed {

namespace {

constexpr zip_uint8_t kUnix = ZIP_OPSYS_UNIX;
constexpr zip_uint32_t kUnixRegularFile0644 = 0100644u << 16;

// 1980-01-01 00:00 local time, the earliest DOS date: libzip converts member
// times to DOS dates in local time, so this gives the same bytes in any zone.
std::time_t fixed_mtime() {
  std::tm tm{};
  tm.tm_year = 80;
  tm.tm_mday = 1;
  tm.tm_isdst = -1;
  return std::mktime(&tm);
}

std::string zip_error_text(const zip_error_t *error) {
  // zip_error_strerror takes a non-const pointer but only formats.
  return zip_error_strerror(const_cast<zip_error_t *>(error));
}

} // namespace

// What libzip reads one member's data from at close(): its bytes in the
// writer's spool. Small on purpose: libzip keeps one per member until close().
struct ZipWriter::MemberSource {
  ZipWriter *writer;
  uint64_t offset, size;
  uint64_t position = 0;
  zip_uint64_t index = 0; // libzip's, to name the member in errors
  zip_error_t error;

  static zip_int64_t callback(void *self, void *data, zip_uint64_t length,
                              zip_source_cmd_t command) {
    return static_cast<MemberSource *>(self)->handle(data, length, command);
  }

  zip_int64_t handle(void *data, zip_uint64_t length, zip_source_cmd_t command) {
    switch (command) {
    case ZIP_SOURCE_OPEN:
      position = 0;
      return 0;
    case ZIP_SOURCE_READ: {
      const uint64_t n = std::min<uint64_t>(length, size - position);
      uint64_t done = 0;
      try {
        while (done < n) {
          const size_t got = writer->spool_.read_at(offset + position + done,
                                                    static_cast<char *>(data) + done, n - done);
          if (got == 0)
            throw IoError("the scratch file of " + writer->path_ + " ended early");
          done += got;
        }
      } catch (const std::exception &e) {
        // No exception may cross libzip's C frames; close() reports this.
        writer->read_error_ = e.what();
        writer->read_error_index_ = index;
        zip_error_set(&error, ZIP_ER_READ, 0);
        return -1;
      }
      position += done;
      return static_cast<zip_int64_t>(done);
    }
    case ZIP_SOURCE_CLOSE:
      return 0;
    case ZIP_SOURCE_STAT: {
      if (length < sizeof(zip_stat_t)) {
        zip_error_set(&error, ZIP_ER_INVAL, 0);
        return -1;
      }
      auto *st = static_cast<zip_stat_t *>(data);
      zip_stat_init(st);
      st->size = size;
      static const std::time_t mtime = fixed_mtime();
      st->mtime = mtime;
      st->valid = ZIP_STAT_SIZE | ZIP_STAT_MTIME;
      return sizeof(zip_stat_t);
    }
    case ZIP_SOURCE_ERROR:
      return zip_error_to_data(&error, data, length);
    case ZIP_SOURCE_FREE:
      zip_error_fini(&error);
      delete this;
      return 0;
    case ZIP_SOURCE_SUPPORTS:
      return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                            ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
    default:
      zip_error_set(&error, ZIP_ER_OPNOTSUPP, 0);
      return -1;
    }
  }
};

ZipWriter::ZipWriter(std::string path) : path_(std::move(path)), spool_("the members of " + path_) {
  // libzip touches the file system only at close(); an unwritable path is
  // found now, before any work goes into the archive.
  io::OutputFile(path_, io::OutputFile::Mode::truncate).close();
  int code = 0;
  zip_ = zip_open(path_.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (zip_ == nullptr) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    const std::string text = zip_error_text(&error);
    zip_error_fini(&error);
    throw IoError(path_ + ": cannot create the zip archive: " + text);
  }
}

ZipWriter::~ZipWriter() {
  try {
    close();
  } catch (...) {
    // Destructors must not throw; close() reports errors to callers that ask.
  }
}

void ZipWriter::fail(const std::string &member, const std::string &what) {
  throw IoError(path_ + (member.empty() ? "" : ": zip member '" + member + "'") + ": " + what);
}

void ZipWriter::add(const std::string &name, std::string_view data) {
  begin_member(name);
  append(data);
  end_member();
}

void ZipWriter::begin_member(const std::string &name) {
  if (closed_ || in_member_)
    throw Error(path_ + ": zip member '" + name + "' added after close or inside another");
  member_ = name;
  member_offset_ = spool_.size();
  in_member_ = true;
}

void ZipWriter::append(std::string_view data) { spool_.write(data); }

void ZipWriter::end_member() {
  in_member_ = false;
  zip_error_t error;
  zip_error_init(&error);
  auto *data = new MemberSource{this, member_offset_, spool_.size() - member_offset_, 0, 0, {}};
  zip_error_init(&data->error);
  zip_source_t *source = zip_source_function_create(&MemberSource::callback, data, &error);
  if (source == nullptr) {
    delete data;
    const std::string text = zip_error_text(&error);
    zip_error_fini(&error);
    fail(member_, text);
  }
  zip_error_fini(&error);
  const zip_int64_t index = zip_file_add(zip_, member_.c_str(), source, ZIP_FL_ENC_UTF_8);
  if (index < 0) {
    zip_source_free(source); // not taken by libzip: frees `data` too
    fail(member_, zip_strerror(zip_));
  }
  const auto i = static_cast<zip_uint64_t>(index);
  data->index = i;
  if (zip_set_file_compression(zip_, i, ZIP_CM_STORE, 0) != 0 ||
      zip_file_set_external_attributes(zip_, i, 0, kUnix, kUnixRegularFile0644) != 0)
    fail(member_, zip_strerror(zip_));
}

void ZipWriter::close() {
  if (closed_)
    return;
  closed_ = true;
  if (in_member_) {
    try {
      end_member();
    } catch (...) {
      zip_discard(zip_);
      zip_ = nullptr;
      throw;
    }
  }
  if (zip_close(zip_) == 0) {
    zip_ = nullptr;
    return;
  }
  std::string member, what = "cannot write the zip archive: ";
  what += zip_strerror(zip_);
  if (!read_error_.empty()) {
    if (const char *name = zip_get_name(zip_, read_error_index_, ZIP_FL_ENC_RAW))
      member = name;
    what += " (" + read_error_ + ")";
  }
  zip_discard(zip_); // leaves `path` as it was
  zip_ = nullptr;
  fail(member, what);
}

} // namespace heed
