// CRC-32 as zip, gzip and PNG compute it (reflected polynomial 0xEDB88320),
// written here because Debian's zlib headers are not a build dependency.
#pragma once

#include <cstdint>
#include <string_view>

namespace heed {

// The CRC-32 of `bytes`; pass a previous result as `crc` to continue it over
// data that comes in pieces: crc32(b, crc32(a)) == crc32(a + b).
uint32_t crc32(std::string_view bytes, uint32_t crc = 0);

} // namespace heed
