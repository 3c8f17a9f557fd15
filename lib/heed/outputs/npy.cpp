#include "heed/outputs/npy.h"

#include <bit>
#include <cstring>

#include "heed/core/error.h"
#include "heed/io/output_file.h"

namespace heed {

namespace {

static_assert(std::endian::native == std::endian::little,
              "npy output writes the in-memory floats as '<f4' (little-endian)");

// Version 1.0; the size is spelled out because the magic holds a NUL byte.
constexpr std::string_view kMagic("\x93NUMPY\x01\x00", 8);
constexpr size_t kAlignment = 64; // numpy's ARRAY_ALIGN
// numpy leaves room to rewrite the first dimension in place when an array grows:
// it pads the dict by 21 (GROWTH_AXIS_MAX_DIGITS) minus that dimension's digits.
constexpr size_t kGrowthAxisMaxDigits = 21;

std::string shape_tuple(const std::vector<int64_t> &shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1)
    text += ","; // Python's one-element tuple
  return text + ")";
}

} // namespace

std::string npy_header(const std::vector<int64_t> &shape) {
  std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_tuple(shape) + ", }";
  if (!shape.empty())
    dict.append(kGrowthAxisMaxDigits - std::to_string(shape[0]).size(), ' ');
  // The 2-byte header length follows the magic; the dict ends with '\n'.
  const size_t unpadded = kMagic.size() + 2 + dict.size() + 1;
  const size_t padding = kAlignment - unpadded % kAlignment; // numpy pads 64 when aligned
  const size_t header_length = dict.size() + padding + 1;
  if (header_length > 0xffff)
    throw Error("npy header of shape " + shape_tuple(shape) + " is too long for format 1.0");

  std::string header(kMagic);
  header += static_cast<char>(header_length & 0xff);
  header += static_cast<char>(header_length >> 8);
  header += dict;
  header.append(padding, ' ');
  header += '\n';
  return header;
}

std::string npy_bytes(const float *data, const std::vector<int64_t> &shape) {
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  std::string bytes = npy_header(shape);
  const size_t header_size = bytes.size();
  bytes.resize(header_size + static_cast<size_t>(count) * sizeof(float));
  if (count > 0)
    std::memcpy(bytes.data() + header_size, data, static_cast<size_t>(count) * sizeof(float));
  return bytes;
}

void write_npy(const std::string &path, const float *data, const std::vector<int64_t> &shape) {
  const std::string bytes = npy_bytes(data, shape);
  io::OutputFile out(path, io::OutputFile::Mode::replace);
  out.write(bytes);
  out.close();
}

} // namespace heed
