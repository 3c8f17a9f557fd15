#include "heed/core/tensor.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace heed {

Tensor &Tensor::operator=(const Tensor &other) {
  if (this != &other) {
    resize(other.shape_);
    if (size_ > 0)
      std::memcpy(data(), other.data(), sizeof(float) * size_);
  }
  return *this;
}

void Tensor::reserve(int64_t elements) {
  if (elements > capacity())
    storage_.reserve(sizeof(float) * static_cast<size_t>(elements));
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
