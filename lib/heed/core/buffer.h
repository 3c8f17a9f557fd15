// Untyped storage: Tensor's, and that of data whose element type is chosen at
// run time (the decoder caches, float32 or bfloat16). 64-byte aligned for
// AVX-512, and only grows: reserving no more than the capacity keeps the
// allocation, so a buffer sized once is reused without touching the allocator.
#pragma once

#include <cstddef>
#include <memory>

namespace heed {

class Buffer {
public:
  // Makes sure `bytes` fit; contents are unspecified after a reallocation.
  void reserve(size_t bytes);
  std::byte *data() { return data_.get(); }
  const std::byte *data() const { return data_.get(); }
  template <typename T> T *as() { return reinterpret_cast<T *>(data_.get()); }
  template <typename T> const T *as() const { return reinterpret_cast<const T *>(data_.get()); }
  size_t capacity() const { return capacity_; }

private:
  struct AlignedFree {
    void operator()(std::byte *p) const;
  };
  std::unique_ptr<std::byte[], AlignedFree> data_;
  size_t capacity_ = 0;
};

} // namespace heed
