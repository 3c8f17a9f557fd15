#include "heed/io/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <limits>

#include "heed/core/bfloat16.h"
#include "heed/core/error.h"
#include "heed/io/printable.h"

namespace heed::io {

const char *dtype_name(DType dtype) {
  switch (dtype) {
  case DType::f32:
    return "F32";
  case DType::f16:
    return "F16";
  case DType::bf16:
    return "BF16";
  case DType::i8:
    return "I8";
  }
  return "?";
}

size_t dtype_size(DType dtype) {
  switch (dtype) {
  case DType::f32:
    return 4;
  case DType::f16:
  case DType::bf16:
    return 2;
  case DType::i8:
    return 1;
  }
  return 0;
}

int64_t TensorEntry::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string TensorEntry::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

float half_to_float(uint16_t h) {
  // Exact and branch-free, so the conversion loop below vectorises (the
  // branchy version was a tenth of loading an F16 model). With the sign
  // shifted out, the half's exponent and mantissa are moved into a float's
  // fields and the exponent bias corrected by multiplying by 2^-112, a power
  // of two (exact; a half infinity or NaN has exponent 31, which lands on 255
  // and stays infinite or NaN). Subnormal halves (exponent 0) are m x 2^-24:
  // the float 0.5 + m x 2^-24, built from the bits, minus 0.5.
  const uint32_t w = static_cast<uint32_t>(h) << 16;
  const uint32_t sign = w & 0x80000000u;
  const uint32_t two_w = w + w;
  auto as_float = [](uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  };
  auto as_bits = [](float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    return bits;
  };
  const float normal = as_float((two_w >> 4) + (0xe0u << 23)) * 0x1.0p-112f;
  const float subnormal = as_float((two_w >> 17) | (126u << 23)) - 0.5f;
  const uint32_t magnitude = two_w < (1u << 27) ? as_bits(subnormal) : as_bits(normal);
  return as_float(sign | magnitude);
}

float bfloat16_to_float(uint16_t b) { return from_bfloat16(b); }

void SafetensorsFile::to_float(const TensorEntry &t, float *out) {
  const int64_t n = t.numel();
  if (n == 0)
    return; // `out` may be null then (an empty vector's data()), invalid for memcpy
  switch (t.dtype) {
  case DType::f32:
    std::memcpy(out, t.data, sizeof(float) * n);
    break;
  case DType::f16:
    for (int64_t i = 0; i < n; ++i) {
      uint16_t v;
      std::memcpy(&v, t.data + 2 * i, 2);
      out[i] = half_to_float(v);
    }
    break;
  case DType::bf16:
    for (int64_t i = 0; i < n; ++i) {
      uint16_t v;
      std::memcpy(&v, t.data + 2 * i, 2);
      out[i] = bfloat16_to_float(v);
    }
    break;
  case DType::i8: {
    const auto *values = reinterpret_cast<const int8_t *>(t.data);
    for (int64_t i = 0; i < n; ++i)
      out[i] = static_cast<float>(values[i]);
    break;
  }
  }
}

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
    : name_(path), file_(std::make_unique<MappedFile>(path)) {
  parse(file_->data(), file_->size());
}

SafetensorsFile::SafetensorsFile(const uint8_t *bytes, size_t size, std::string name)
    : name_(std::move(name)) {
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

const TensorEntry &SafetensorsFile::get(const std::string &name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end())
    fail(path(), "missing tensor '" + printable(name) + "'");
  return it->second;
}

} // namespace heed::io
