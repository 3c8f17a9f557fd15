// A read-only memory mapping of a whole file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace heed::io {

class MappedFile {
public:
  // Maps `path`; throws ModelError naming the path when it cannot.
  explicit MappedFile(const std::string &path);
  ~MappedFile();
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;

  const uint8_t *data() const { return data_; }
  // Lets the kernel drop the pages holding [begin, begin + size) from memory:
  // they are clean copies of the file, read again from it if touched later. A
  // loader calls this once a tensor is converted, so the mapping does not keep
  // a second copy of the model resident.
  void release(const uint8_t *begin, size_t size) const;
  size_t size() const { return size_; }
  const std::string &path() const { return path_; }

private:
  std::string path_;
  const uint8_t *data_ = nullptr;
  size_t size_ = 0;
};

} // namespace heed::io
