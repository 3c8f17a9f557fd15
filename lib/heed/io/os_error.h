// The one wording of errors the operating system reports on a file: the path,
// what heed was doing, and the system's reason ("out.txt: cannot open for
// writing: Permission denied").
#pragma once

#include <cerrno>
#include <string>

namespace heed::io {

// "PATH: WHAT: REASON", REASON being strerror(`error`).
std::string os_error(const std::string &path, const std::string &what, int error = errno);

} // namespace heed::io
