// Where outputs may be written, checked before any work so that a run does not
// translate for an hour and then fail to open its output. heed creates no
// missing parent directory, for any output: a mistyped path fails at once
// instead of growing a stray tree. An output that is itself a directory
// (`heed convert -o DIR`, `--attention DIR/`) is created, in an existing
// parent. Every error names the path and the operating system's reason.
#pragma once

#include <string>

#include "heed/io/os_error.h"

namespace heed::io {

// A file `path` can be created or replaced: not a directory, in an existing
// directory, writable. IoError naming the path and the reason otherwise.
// Nothing is created or changed.
void check_output_file(const std::string &path);

// Whether `path` names a regular file, a directory or nothing yet (a new
// output), as opposed to a device, a FIFO or a socket (-o /dev/null), which
// gets no lock file or record beside it.
bool is_file_or_absent(const std::string &path);

// A directory `path` exists or can be created in its existing parent; IoError
// otherwise. Nothing is created.
void check_output_directory(const std::string &path);

} // namespace heed::io
