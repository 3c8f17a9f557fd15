// Files that appear whole or not at all: written under "PATH.partial", synced,
// then renamed onto PATH, so that a crash, a kill or a full disk never leaves
// a PATH that looks complete but is not (a model heed converted, the record of
// a resumable run). On failure the partial file is removed and the error
// passed on; an earlier PATH is left as it was.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "heed/io/output_file.h"

namespace heed::io {

// Calls `fill` with the partial file open for writing, then makes it PATH.
// IoError naming the path and the system's reason when writing, syncing or
// renaming fails; whatever `fill` throws, after removing the partial file.
void write_file_atomically(const std::string &path, const std::function<void(OutputFile &)> &fill);

void write_file_atomically(const std::string &path, std::string_view bytes);

// Renames `from` onto `to` (same directory), IoError naming both otherwise.
void rename_into_place(const std::string &from, const std::string &to);

} // namespace heed::io
