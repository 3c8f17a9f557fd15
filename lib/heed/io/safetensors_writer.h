// Writes a safetensors file: 8-byte little-endian header length, the JSON
// header (padded with spaces to a multiple of 8 bytes, as the reference
// implementation does, so tensors stay aligned), then the tensors' bytes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "heed/io/safetensors.h"

namespace heed::io {

struct TensorToWrite {
  std::string name;
  DType dtype = DType::f32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes; // numel x dtype_size, little-endian
};

// Writes `path` through a temporary file renamed at the end, so a failed or
// interrupted write never leaves a truncated model; throws IoError.
void write_safetensors(const std::string &path, const std::vector<TensorToWrite> &tensors,
                       const std::map<std::string, std::string> &metadata = {});

} // namespace heed::io
