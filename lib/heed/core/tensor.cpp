#include "heed/core/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

namespace heed {

void Tensor::AlignedFree::operator()(float *p) const { std::free(p); }

Tensor &Tensor::operator=(const Tensor &other) {
  if (this != &other) {
    resize(other.shape_);
    if (size_ > 0)
      std::memcpy(data(), other.data(), sizeof(float) * size_);
  }
  return *this;
}

void Tensor::reserve(int64_t elements) {
  if (elements <= capacity_)
    return;
  // Round the byte count up to the alignment, as aligned_alloc requires.
  size_t bytes = sizeof(float) * static_cast<size_t>(elements);
  bytes = (bytes + 63) / 64 * 64;
  auto *p = static_cast<float *>(std::aligned_alloc(64, bytes));
  if (p == nullptr)
    throw std::bad_alloc();
  data_.reset(p);
  capacity_ = elements;
}

void Tensor::resize(std::vector<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      throw std::invalid_argument("Tensor::resize: negative dimension");
    n *= d;
  }
  reserve(n);
  shape_ = std::move(shape);
  size_ = n;
}

void Tensor::fill(float value) { std::fill(data(), data() + size_, value); }

} // namespace heed
