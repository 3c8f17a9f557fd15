// Reader for pytorch_model.bin, a state dict saved by torch.save, in both of
// PyTorch's serialisations:
//   zip (torch >= 1.6)  ARCHIVE/data.pkl (the pickled dict, whose tensors name
//                       their storages by persistent id), ARCHIVE/data/KEY (each
//                       storage's raw little-endian bytes), ARCHIVE/version;
//                       ARCHIVE is "archive" or the file's stem, whatever it is
//                       the directory of data.pkl
//   legacy              five pickles one after another (the magic number
//                       0x1950a86a20f9469cfc6c, protocol version 1001, a sys info
//                       dict, the state dict, the list of storage keys), then
//                       each storage in that order: an 8-byte little-endian
//                       element count and the raw bytes
// The pickles go through the restricted unpickler of pickle.h (no code runs).
// Every tensor's view (offset, size, stride) is checked against its storage
// with overflow-safe arithmetic and made contiguous; tensors viewing the same
// bytes the same way (tied embeddings) are stored once and aliased. float32,
// float16 and bfloat16 only, little-endian only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "heed/io/tensor_archive.h"

namespace heed::io {

// Reads `path` in whichever format its first bytes say (ZipArchive's magic:
// zip; else legacy); ModelError naming the file and what is wrong.
std::unique_ptr<TensorBuffers> read_pytorch_checkpoint(const std::string &path);
std::unique_ptr<TensorBuffers> read_pytorch_zip(const std::string &path);
std::unique_ptr<TensorBuffers> read_pytorch_legacy(const std::string &path);
// The legacy format from memory; `name` stands for the path in errors.
std::unique_ptr<TensorBuffers> read_pytorch_legacy(const uint8_t *bytes, size_t size,
                                                   const std::string &name);

// The largest data.pkl accepted (a Marian model's is tens of kilobytes).
constexpr uint64_t kMaxStateDictPickleBytes = uint64_t{64} << 20;

} // namespace heed::io
