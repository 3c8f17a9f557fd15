// numpy's .npy arrays and .npz archives of them (a zip whose members are
// NAME.npy), as numpy.save / numpy.savez and Marian's cnpy writer make them:
// the container of a native Marian model (model.npz).
//
// The input is untrusted. A .npy member is accepted only when it is exactly:
// the magic "\x93NUMPY", version 1.0 (uint16 header length), 2.0 or 3.0
// (uint32), a header that is a Python dict literal with exactly the keys
// 'descr', 'fortran_order' and 'shape' (any order, a trailing comma allowed),
// padded with spaces and ended by a newline, then the values: the product of
// the shape times the item size, no byte more or less. Accepted descr:
// '<f4' (float32), '<f2' (float16), '|i1' and '|u1' (bytes; also '<i1', '>i1',
// '=i1', ...: byte order means nothing for one byte). Big-endian or
// other types, 'fortran_order': True, negative or overflowing dimensions are
// refused. Every refusal is a ModelError naming the archive and member.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "heed/io/zip_archive.h"

namespace heed::io {

enum class NpyType { f32, f16, i8, u8 };

// "float32", "float16", "int8", "uint8".
const char *npy_type_name(NpyType type);
size_t npy_type_size(NpyType type);

// Where a valid .npy's values lie within its bytes.
struct NpyLayout {
  NpyType type = NpyType::f32;
  std::vector<int64_t> shape; // () for a scalar
  uint64_t data_offset = 0;   // header bytes before the values
  uint64_t numel = 1;
};

// Checks `bytes` as a whole .npy file as described above (the data must be
// exactly numel * item size bytes); ModelError "`what`: ..." otherwise.
NpyLayout parse_npy(std::string_view bytes, const std::string &what);
// The same for the header alone: `bytes` holds at least the header, the whole
// .npy has `total_size` bytes (the values are checked to fill the rest).
NpyLayout parse_npy_header(std::string_view bytes, uint64_t total_size, const std::string &what);
// Where the header ends (= the values start), from the first 10 or 12 bytes
// (magic, version, header length), checked against `total_size`.
uint64_t npy_header_end(std::string_view bytes, uint64_t total_size, const std::string &what);

// One array of an .npz: its type, shape and values (little-endian, C order).
struct NpyArray {
  NpyType type = NpyType::f32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data; // exactly numel * item size bytes

  uint64_t numel() const;
};

class NpzArchive {
public:
  // Opens `path` (io::ZipArchive's checks: truncated or corrupt archives are
  // refused); ModelError naming the file when a member's name does not end in
  // ".npy" or two members have the same array name.
  explicit NpzArchive(const std::string &path);

  const std::string &path() const { return zip_.path(); }
  uint64_t file_bytes() const { return zip_.file_bytes(); }
  // Array names: member names without ".npy", in archive order.
  const std::vector<std::string> &names() const { return names_; }
  bool contains(const std::string &name) const;
  // Reads and checks the array `name` (CRC, header, size); ModelError naming
  // the archive and member when absent or invalid.
  // `extra_bytes`: capacity reserved past the values, for a caller that
  // appends (the <pad> row of an embedding matrix) without reallocating.
  NpyArray read(const std::string &name, size_t extra_bytes = 0) const;
  // The same into `array`, reusing its buffer's capacity.
  void read(const std::string &name, NpyArray &array, size_t extra_bytes = 0) const;

private:
  ZipArchive zip_;
  std::vector<std::string> names_;
};

} // namespace heed::io
