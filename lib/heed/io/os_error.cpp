#include "heed/io/os_error.h"

#include <cstring>

namespace heed::io {

std::string os_error(const std::string &path, const std::string &what, int error) {
  return path + ": " + what + ": " + std::strerror(error);
}

} // namespace heed::io
