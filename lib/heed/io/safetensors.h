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

namespace heed::io {

// I8 holds quantized weights (heed convert --quantize int8); their scales are
// separate F32 tensors (see model/weight_reader.h).
enum class DType { f32, f16, bf16, i8 };

const char *dtype_name(DType dtype);
size_t dtype_size(DType dtype);

struct TensorEntry {
  std::string name;
  DType dtype = DType::f32;
  std::vector<int64_t> shape;
  uint64_t begin = 0; // byte offset inside the data section
  uint64_t end = 0;
  const uint8_t *data = nullptr;

  int64_t numel() const;
  std::string shape_string() const;
};

class SafetensorsFile {
public:
  // Largest header accepted, as in the reference implementation.
  static constexpr uint64_t kMaxHeaderBytes = 100u << 20;

  // Maps the file at `path` and validates it.
  explicit SafetensorsFile(const std::string &path);
  // Validates a safetensors image already in memory (`bytes` must outlive this
  // object: tensors point into it); `name` stands for the path in errors.
  SafetensorsFile(const uint8_t *bytes, size_t size, std::string name);

  const std::string &path() const { return name_; }
  bool contains(const std::string &name) const { return tensors_.count(name) != 0; }
  // Throws ModelError naming the file and tensor when absent.
  const TensorEntry &get(const std::string &name) const;
  const std::map<std::string, TensorEntry> &tensors() const { return tensors_; }
  const std::map<std::string, std::string> &metadata() const { return metadata_; }
  // Size of the whole file (or image), header included.
  uint64_t file_bytes() const { return bytes_; }

  // Drops the pages of a tensor already converted from memory (a mapped file;
  // no-op for an image in memory).
  void release(const TensorEntry &tensor) const {
    if (file_)
      file_->release(tensor.data, tensor.end - tensor.begin);
  }

  // Converts a tensor of any supported dtype to float32 into `out` (numel floats);
  // I8 values are converted as they are, unscaled.
  static void to_float(const TensorEntry &tensor, float *out);

private:
  // The one parser behind both constructors.
  void parse(const uint8_t *base, uint64_t size);

  std::string name_;
  std::unique_ptr<MappedFile> file_; // null for an image in memory
  std::map<std::string, TensorEntry> tensors_;
  std::map<std::string, std::string> metadata_;
  uint64_t bytes_ = 0;
};

// IEEE half and bfloat16 to float.
float half_to_float(uint16_t h);
float bfloat16_to_float(uint16_t b);

} // namespace heed::io
