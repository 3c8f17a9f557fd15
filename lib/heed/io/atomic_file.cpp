#include "heed/io/atomic_file.h"

#include <unistd.h>

#include <cstdio>

#include "heed/core/error.h"
#include "heed/io/os_error.h"

namespace heed::io {

void rename_into_place(const std::string &from, const std::string &to) {
  if (std::rename(from.c_str(), to.c_str()) != 0)
    throw IoError(os_error(to, "cannot rename " + from + " into place"));
}

void write_file_atomically(const std::string &path, const std::function<void(OutputFile &)> &fill) {
  const std::string partial = path + ".partial";
  try {
    OutputFile out(partial, OutputFile::Mode::truncate);
    fill(out);
    out.flush();
    // Durable before it has the final name: after a power cut the name never
    // points at a file whose blocks were not written.
    if (::fsync(out.fd()) != 0)
      throw IoError(os_error(partial, "cannot sync"));
    out.close();
    rename_into_place(partial, path);
  } catch (...) {
    ::unlink(partial.c_str());
    throw;
  }
}

void write_file_atomically(const std::string &path, std::string_view bytes) {
  write_file_atomically(path, [bytes](OutputFile &out) { out.write(bytes); });
}

} // namespace heed::io
