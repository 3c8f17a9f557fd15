// NumPy's .npy format (version 1.0) for float32 arrays, byte for byte as
// numpy.save writes it: magic, header dict, spaces and a newline padding the
// header so the data starts at a multiple of 64 bytes, then the values
// little-endian in C order. numpy.load and memory-mapping read it as is.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace heed {

// The header (magic through the final newline) of a '<f4' C-order array of `shape`.
std::string npy_header(const std::vector<int64_t> &shape);

// A whole .npy file: header then the product-of-shape floats at `data`.
std::string npy_bytes(const float *data, const std::vector<int64_t> &shape);

// Writes npy_bytes to a new file `path`, replacing the entry of that name
// without following a symlink (io::OutputFile::Mode::replace); IoError naming
// the file when it cannot.
void write_npy(const std::string &path, const float *data, const std::vector<int64_t> &shape);

} // namespace heed
