#include "heed/io/output_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "heed/core/error.h"

namespace fs = std::filesystem;

namespace heed::io {
namespace {

// The directory an entry `path` would be created in.
std::string parent_of(const std::string &path) {
  fs::path p = fs::path(path);
  if (!p.has_filename()) // "out/" names the directory "out"
    p = p.parent_path();
  const fs::path parent = p.parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

// The parent must exist, be a directory and let us create entries.
void check_parent(const std::string &path) {
  const std::string parent = parent_of(path);
  struct stat st {};
  if (::stat(parent.c_str(), &st) != 0) {
    if (errno == ENOENT)
      throw IoError(path + ": cannot create: the directory " + parent +
                    " does not exist (heed creates no parent directories)");
    throw IoError(os_error(path, "cannot create: " + parent));
  }
  if (!S_ISDIR(st.st_mode))
    throw IoError(path + ": cannot create: " + parent + " is not a directory");
  if (::access(parent.c_str(), W_OK | X_OK) != 0)
    throw IoError(os_error(path, "cannot create in " + parent));
}

} // namespace

void check_output_file(const std::string &path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode))
      throw IoError(path + ": is a directory, not a file");
    if (::access(path.c_str(), W_OK) != 0)
      throw IoError(os_error(path, "cannot open for writing"));
    return;
  }
  check_parent(path);
}

bool is_file_or_absent(const std::string &path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return errno == ENOENT;
  return S_ISREG(st.st_mode) || S_ISDIR(st.st_mode);
}

void check_output_directory(const std::string &path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      throw IoError(path + ": exists and is not a directory");
    if (::access(path.c_str(), W_OK | X_OK) != 0)
      throw IoError(os_error(path, "cannot write in"));
    return;
  }
  check_parent(path);
}

} // namespace heed::io
