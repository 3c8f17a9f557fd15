// A checkpoint's tensors by name, whatever the file format they came from:
// model.safetensors (memory-mapped, zero copy), pytorch_model.bin (both
// PyTorch serialisations) and Marian's .npz (decoded into buffers the archive
// owns). Whatever the format, every entry has been checked against its file
// before it is listed: its dtype, its shape and its bytes agree, and the bytes
// are contiguous row-major little-endian values.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

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
  uint64_t begin = 0; // byte offset inside the format's data (safetensors: data section)
  uint64_t end = 0;   // end - begin = numel * dtype_size
  const uint8_t *data = nullptr;

  int64_t numel() const;
  uint64_t bytes() const { return end - begin; }
  std::string shape_string() const;
};

class TensorArchive {
public:
  virtual ~TensorArchive() = default;

  // The file the tensors came from (named in errors).
  const std::string &path() const { return name_; }
  // What the file is, for `heed info`: "safetensors", "pytorch zip", "pytorch
  // legacy", "marian npz".
  const std::string &format() const { return format_; }
  bool contains(const std::string &name) const { return tensors_.count(name) != 0; }
  // Throws ModelError naming the file and tensor when absent.
  const TensorEntry &get(const std::string &name) const;
  const std::map<std::string, TensorEntry> &tensors() const { return tensors_; }
  // Size of the whole file.
  uint64_t file_bytes() const { return bytes_; }

  // Lets the memory of a tensor already converted go (a mapped file drops its
  // pages; buffers are kept: a tied tensor may be read again).
  virtual void release(const TensorEntry &tensor) const {}

  // Converts a tensor of any supported dtype to float32 into `out` (numel
  // floats); I8 values are converted as they are, unscaled.
  static void to_float(const TensorEntry &tensor, float *out);
  // Elements [begin, end) of the same into out[0, end - begin): a part of a
  // large tensor, so that several threads can convert one, each into its own
  // place or a small buffer.
  static void to_float(const TensorEntry &tensor, float *out, int64_t begin, int64_t end);

protected:
  TensorArchive(std::string name, std::string format)
      : name_(std::move(name)), format_(std::move(format)) {}

  std::string name_;
  std::string format_;
  std::map<std::string, TensorEntry> tensors_;
  uint64_t bytes_ = 0;
};

// Tensors decoded into memory this object owns: what a pickled or npz
// checkpoint becomes once parsed and checked.
class TensorBuffers : public TensorArchive {
public:
  TensorBuffers(std::string path, std::string format, uint64_t file_bytes)
      : TensorArchive(std::move(path), std::move(format)) {
    bytes_ = file_bytes;
  }

  // Adds `name` holding `bytes`, numel(shape) contiguous little-endian values
  // of `dtype`; ModelError naming the file and tensor when the name is taken
  // or the byte count does not match the shape.
  void add(const std::string &name, DType dtype, std::vector<int64_t> shape,
           std::vector<uint8_t> bytes);
  // Adds `name` as one more name of the tensor `existing` (tied weights
  // stored once), sharing its bytes.
  void alias(const std::string &name, const std::string &existing);
  // Removes `name` (its bytes stay until the archive goes).
  void remove(const std::string &name) { tensors_.erase(name); }

  // Frees a buffer once every name it is stored under has been released (a
  // loaded model has its own copy), so that loading holds the checkpoint's
  // bytes once, not twice. A name must not be read after its release.
  void release(const TensorEntry &tensor) const override;

private:
  struct Buffer {
    std::vector<uint8_t> bytes;
    int names = 0;    // entries pointing into it
    int released = 0; // of which released
  };
  Buffer &buffer_of(const uint8_t *data) const;

  // A deque: buffers keep their address as more are added. Mutable: release()
  // frees memory without changing what the archive lists.
  mutable std::deque<Buffer> buffers_;
};

// IEEE half and bfloat16 to float.
float half_to_float(uint16_t h);
float bfloat16_to_float(uint16_t b);

} // namespace heed::io
