#include "heed/io/distinct_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "heed/core/error.h"
#include "heed/io/input_file.h"

namespace fs = std::filesystem;

namespace heed::io {
namespace {

// What identifies a file: device and inode when it exists, else (an output
// still to be created) its absolute normalised path.
struct Identity {
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
  std::string path;

  bool operator==(const Identity &o) const {
    if (exists != o.exists)
      return false;
    return exists ? device == o.device && inode == o.inode : path == o.path;
  }
};

// Only regular files and directories can be overwritten by mistake; a pipe or
// a terminal on both sides is no fault.
bool is_file_like(const struct stat &st) { return S_ISREG(st.st_mode) || S_ISDIR(st.st_mode); }

std::optional<Identity> identify(const NamedPath &p, int standard_fd) {
  struct stat st {};
  if (is_standard_stream(p.path)) {
    if (::fstat(standard_fd, &st) != 0 || !is_file_like(st))
      return std::nullopt;
    return Identity{true, st.st_dev, st.st_ino, {}};
  }
  if (::stat(p.path.c_str(), &st) == 0)
    return is_file_like(st) ? std::optional<Identity>(Identity{true, st.st_dev, st.st_ino, {}})
                            : std::nullopt;
  std::error_code error;
  const fs::path absolute = fs::weakly_canonical(fs::absolute(p.path, error), error);
  if (error)
    return std::nullopt;
  std::string normal = absolute.lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') // "dir/" and "dir" are one output
    normal.pop_back();
  return Identity{false, 0, 0, normal};
}

std::string describe(const NamedPath &p, bool output) {
  if (is_standard_stream(p.path))
    return output ? "standard output" : "standard input";
  return p.role + " '" + p.path + "'";
}

} // namespace

void check_distinct_files(const std::vector<NamedPath> &inputs,
                          const std::vector<NamedPath> &outputs) {
  std::vector<std::pair<const NamedPath *, Identity>> seen_inputs, seen_outputs;
  for (const auto &input : inputs)
    if (auto id = identify(input, STDIN_FILENO))
      seen_inputs.emplace_back(&input, *id);
  for (const auto &output : outputs) {
    const auto id = identify(output, STDOUT_FILENO);
    if (!id)
      continue;
    for (const auto &[input, input_id] : seen_inputs)
      if (input_id == *id)
        throw OptionError(describe(output, true) + " is the same file as " +
                          describe(*input, false) +
                          ": heed would overwrite its own input; write elsewhere");
    for (const auto &[other, other_id] : seen_outputs)
      if (other_id == *id)
        throw OptionError(describe(output, true) + " is the same file as " +
                          describe(*other, true) + ": give each output its own path");
    seen_outputs.emplace_back(&output, *id);
  }
}

} // namespace heed::io
