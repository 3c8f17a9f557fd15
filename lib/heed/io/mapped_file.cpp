#include "heed/io/mapped_file.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "heed/core/error.h"
#include "heed/io/regular_file.h"

namespace heed::io {

MappedFile::MappedFile(const std::string &path) : path_(path) {
  // A regular file, checked without blocking (a FIFO or a device behind the
  // name is refused before anything is mapped).
  const RegularFile file(path, kUnboundedFileBytes);
  size_ = static_cast<size_t>(file.size());
  if (size_ > 0) {
    void *p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, file.fd(), 0);
    if (p == MAP_FAILED)
      throw ModelError(path + ": cannot map: " + std::strerror(errno));
    data_ = static_cast<const uint8_t *>(p);
  }
}

MappedFile::~MappedFile() {
  if (data_ != nullptr)
    ::munmap(const_cast<uint8_t *>(data_), size_);
}

void MappedFile::release(const uint8_t *begin, size_t size) const {
  if (data_ == nullptr || size == 0 || begin < data_ || begin + size > data_ + size_)
    return;
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto first = reinterpret_cast<uintptr_t>(begin) & ~(page - 1);
  const auto last = reinterpret_cast<uintptr_t>(begin + size);
  // Advice only: failure leaves the pages resident, which is merely wasteful.
  ::madvise(reinterpret_cast<void *>(first), last - first, MADV_DONTNEED);
}

} // namespace heed::io
