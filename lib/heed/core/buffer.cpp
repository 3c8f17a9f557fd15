#include "heed/core/buffer.h"

#include <cstdlib>
#include <new>

namespace heed {

void Buffer::AlignedFree::operator()(std::byte *p) const { std::free(p); }

void Buffer::reserve(size_t bytes) {
  if (bytes <= capacity_)
    return;
  // aligned_alloc wants a multiple of the alignment.
  const size_t rounded = (bytes + 63) / 64 * 64;
  auto *p = static_cast<std::byte *>(std::aligned_alloc(64, rounded));
  if (p == nullptr)
    throw std::bad_alloc();
  data_.reset(p);
  capacity_ = bytes;
}

} // namespace heed
