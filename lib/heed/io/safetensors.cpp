#include "heed/io/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <limits>

#include "heed/core/error.h"
#include "heed/io/printable.h"

namespace heed::io {

namespace {

[[noreturn]] void fail(const std::string &path, const std::string &what) {
  throw ModelError(path + ": " + what);
}

DType parse_dtype(const std::string &path, const std::string &name, const std::string &s) {
  if (s == "F32")
    return DType::f32;
  if (s == "F16")
    return DType::f16;
  if (s == "BF16")
    return DType::bf16;
  if (s == "I8")
    return DType::i8;
  fail(path, "tensor '" + printable(name) + "' has unsupported dtype '" + printable(s) +
                 "' (supported: F32, F16, BF16, I8)");
}

} // namespace

SafetensorsFile::SafetensorsFile(const std::string &path)
    : TensorArchive(path, "safetensors"), file_(std::make_unique<MappedFile>(path)) {
  parse(file_->data(), file_->size());
}

SafetensorsFile::SafetensorsFile(const uint8_t *bytes, size_t size, std::string name)
    : TensorArchive(std::move(name), "safetensors") {
  parse(bytes, size);
}

void SafetensorsFile::parse(const uint8_t *base, uint64_t file_size) {
  const std::string &path = name_;
  bytes_ = file_size;
  if (file_size < 8)
    fail(path, "truncated: " + std::to_string(file_size) +
                   " bytes, too short for the 8-byte safetensors header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i)
    header_len = (header_len << 8) | base[i];
  if (header_len > kMaxHeaderBytes)
    fail(path, "header length " + std::to_string(header_len) + " exceeds the " +
                   std::to_string(kMaxHeaderBytes) + "-byte limit (not a safetensors file?)");
  if (header_len > file_size - 8)
    fail(path, "header length " + std::to_string(header_len) + " is larger than the file (" +
                   std::to_string(file_size) + " bytes): truncated download?");
  const uint64_t data_size = file_size - 8 - header_len;
  const uint8_t *data_base = base + 8 + header_len;

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(base + 8, base + 8 + header_len);
  } catch (const nlohmann::json::exception &e) {
    fail(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object())
    fail(path, "header is not a JSON object");

  for (auto &[name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object())
        fail(path, "__metadata__ is not an object");
      for (auto &[key, value] : entry.items()) {
        if (!value.is_string())
          fail(path, "__metadata__ value '" + printable(key) + "' is not a string");
        metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + printable(name) + "'";
    if (!entry.is_object())
      fail(path, where + ": entry is not an object");
    if (!entry.contains("dtype") || !entry["dtype"].is_string())
      fail(path, where + ": missing or non-string 'dtype'");
    if (!entry.contains("shape") || !entry["shape"].is_array())
      fail(path, where + ": missing or non-array 'shape'");
    if (!entry.contains("data_offsets") || !entry["data_offsets"].is_array() ||
        entry["data_offsets"].size() != 2)
      fail(path, where + ": 'data_offsets' must be an array of two integers");

    TensorEntry t;
    t.name = name;
    t.dtype = parse_dtype(path, name, entry["dtype"].get<std::string>());
    uint64_t elements = 1;
    for (auto &d : entry["shape"]) {
      if (!d.is_number_unsigned())
        fail(path, where + ": shape entries must be non-negative integers");
      uint64_t v = d.get<uint64_t>();
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          (v != 0 && elements > std::numeric_limits<uint64_t>::max() / v))
        fail(path, where + ": shape is too large");
      elements *= v;
      t.shape.push_back(static_cast<int64_t>(v));
    }
    for (auto &o : entry["data_offsets"])
      if (!o.is_number_unsigned())
        fail(path, where + ": data_offsets must be non-negative integers");
    t.begin = entry["data_offsets"][0].get<uint64_t>();
    t.end = entry["data_offsets"][1].get<uint64_t>();
    if (t.begin > t.end)
      fail(path, where + ": data_offsets [" + std::to_string(t.begin) + ", " +
                     std::to_string(t.end) + "] are reversed");
    if (t.end > data_size)
      fail(path, where + ": data_offsets end " + std::to_string(t.end) +
                     " lies outside the data section (" + std::to_string(data_size) +
                     " bytes): truncated file?");
    if (elements > data_size / dtype_size(t.dtype) ||
        t.end - t.begin != elements * dtype_size(t.dtype))
      fail(path, where + ": byte range of " + std::to_string(t.end - t.begin) +
                     " bytes does not match shape " + t.shape_string() + " of " +
                     dtype_name(t.dtype));
    t.data = data_base + t.begin;
    tensors_.emplace(name, std::move(t));
  }

  // Tensors must not share bytes (an empty tensor has none to share).
  std::vector<const TensorEntry *> by_offset;
  for (auto &[name, t] : tensors_)
    if (t.end > t.begin)
      by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](auto *a, auto *b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i]->begin < by_offset[i - 1]->end)
      fail(path, "tensors '" + printable(by_offset[i - 1]->name) + "' and '" +
                     printable(by_offset[i]->name) + "' overlap in the data section");
}

} // namespace heed::io
