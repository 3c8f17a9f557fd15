// A dense, row-major float32 buffer with a shape. Storage is 64-byte aligned for
// AVX-512 and only grows: resizing to a smaller or equal element count keeps the
// allocation, so buffers reserved once can be reused across decoding steps
// without touching the allocator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "heed/core/buffer.h"

namespace heed {

class Tensor {
public:
  Tensor() = default;
  explicit Tensor(std::vector<int64_t> shape) { resize(std::move(shape)); }
  Tensor(std::initializer_list<int64_t> shape) { resize(std::vector<int64_t>(shape)); }

  Tensor(Tensor &&) noexcept = default;
  Tensor &operator=(Tensor &&) noexcept = default;
  Tensor(const Tensor &other) { *this = other; }
  Tensor &operator=(const Tensor &other);

  // Sets the shape; reallocates only when the new size exceeds the capacity.
  // Contents are unspecified after a reallocation.
  void resize(std::vector<int64_t> shape);
  // Makes sure `elements` floats fit without a later reallocation.
  void reserve(int64_t elements);

  float *data() { return storage_.as<float>(); }
  const float *data() const { return storage_.as<float>(); }
  int64_t size() const { return size_; }
  int64_t capacity() const { return static_cast<int64_t>(storage_.capacity() / sizeof(float)); }
  const std::vector<int64_t> &shape() const { return shape_; }
  int64_t dim(size_t i) const { return shape_.at(i); }
  size_t rank() const { return shape_.size(); }
  bool empty() const { return size_ == 0; }

  float &operator[](int64_t i) { return data()[i]; }
  float operator[](int64_t i) const { return data()[i]; }

  void fill(float value);

private:
  Buffer storage_;
  std::vector<int64_t> shape_;
  int64_t size_ = 0;
};

} // namespace heed
