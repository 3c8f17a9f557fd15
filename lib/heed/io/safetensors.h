// Reader for the safetensors format: an 8-byte little-endian header length, a
// JSON header naming each tensor's dtype, shape and byte range, then the data.
// The file is memory-mapped and every claim of the header is checked against
// the file before any tensor is used.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "heed/io/mapped_file.h"
#include "heed/io/tensor_archive.h"

namespace heed::io {

class SafetensorsFile : public TensorArchive {
public:
  // Largest header accepted, as in the reference implementation.
  static constexpr uint64_t kMaxHeaderBytes = 100u << 20;

  // Maps the file at `path` and validates it.
  explicit SafetensorsFile(const std::string &path);
  // Validates a safetensors image already in memory (`bytes` must outlive this
  // object: tensors point into it); `name` stands for the path in errors.
  SafetensorsFile(const uint8_t *bytes, size_t size, std::string name);

  const std::map<std::string, std::string> &metadata() const { return metadata_; }

  // Drops the pages of a tensor already converted from memory (a mapped file;
  // no-op for an image in memory).
  void release(const TensorEntry &tensor) const override {
    if (file_)
      file_->release(tensor.data, tensor.end - tensor.begin);
  }

private:
  // The one parser behind both constructors.
  void parse(const uint8_t *base, uint64_t size);

  std::unique_ptr<MappedFile> file_; // null for an image in memory
  std::map<std::string, std::string> metadata_;
};

} // namespace heed::io
