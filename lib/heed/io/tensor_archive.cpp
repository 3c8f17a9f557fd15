#include "heed/io/tensor_archive.h"

#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

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
  // Exact, with no branch on the value in the source (a branchy version was
  // a tenth of loading an F16 model; GCC still compiles the select to a
  // branch, so to_float uses F16C where the processor has it). With the sign
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

namespace {

void halves_to_floats(const uint8_t *halves, float *out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint16_t v;
    std::memcpy(&v, halves + 2 * i, 2);
    out[i] = half_to_float(v);
  }
}

#if defined(__x86_64__)
// The processor's own conversion (F16C: Intel since Ivy Bridge, AMD since
// Piledriver, not every low-end Atom, Pentium or Celeron), eight halves per
// instruction: GCC leaves half_to_float's loop scalar and branchy, and
// converting was a third of loading an F16 model in float32.
// Exact like half_to_float (a half is a float with fewer bits); a signalling
// NaN comes out quiet, still a NaN.
__attribute__((target("avx,f16c"))) void halves_to_floats_f16c(const uint8_t *halves, float *out,
                                                               int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i *>(halves + 2 * i));
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(h));
  }
  halves_to_floats(halves + 2 * i, out + i, n - i);
}

// F16C's instructions take AVX registers: the operating system must save them
// (__builtin_cpu_supports("avx") checks that). Clang 14's
// __builtin_cpu_supports knows no "f16c": CPUID leaf 1 tells.
bool has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __builtin_cpu_supports("avx") && __get_cpuid(1, &eax, &ebx, &ecx, &edx) &&
         (ecx & bit_F16C) != 0;
}
#endif

} // namespace

void TensorArchive::to_float(const TensorEntry &t, float *out) { to_float(t, out, 0, t.numel()); }

void TensorArchive::to_float(const TensorEntry &t, float *out, int64_t begin, int64_t end) {
  if (end <= begin)
    return; // `out` may be null then (an empty vector's data()), invalid for memcpy
  switch (t.dtype) {
  case DType::f32:
    std::memcpy(out, t.data + 4 * begin, sizeof(float) * (end - begin));
    break;
  case DType::f16: {
#if defined(__x86_64__)
    static const bool f16c = has_f16c();
    if (f16c) {
      halves_to_floats_f16c(t.data + 2 * begin, out, end - begin);
      break;
    }
#endif
    halves_to_floats(t.data + 2 * begin, out, end - begin);
    break;
  }
  case DType::bf16:
    for (int64_t i = begin; i < end; ++i) {
      uint16_t v;
      std::memcpy(&v, t.data + 2 * i, 2);
      out[i - begin] = bfloat16_to_float(v);
    }
    break;
  case DType::i8: {
    const auto *values = reinterpret_cast<const int8_t *>(t.data);
    for (int64_t i = begin; i < end; ++i)
      out[i - begin] = static_cast<float>(values[i]);
    break;
  }
  }
}

const TensorEntry &TensorArchive::get(const std::string &name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end())
    throw ModelError(name_ + ": missing tensor '" + printable(name) + "'");
  return it->second;
}

void TensorBuffers::add(const std::string &name, DType dtype, std::vector<int64_t> shape,
                        std::vector<uint8_t> bytes) {
  if (tensors_.count(name))
    throw ModelError(name_ + ": tensor '" + printable(name) + "' appears twice");
  TensorEntry t;
  t.name = name;
  t.dtype = dtype;
  t.shape = std::move(shape);
  // Shapes come from a parsed file: multiply with an overflow check.
  uint64_t numel = 1;
  for (int64_t d : t.shape) {
    if (d < 0 || (d > 0 && numel > UINT64_MAX / static_cast<uint64_t>(d)))
      throw ModelError(name_ + ": tensor '" + printable(name) + "' has an impossible shape " +
                       t.shape_string());
    numel *= static_cast<uint64_t>(d);
  }
  if (numel > UINT64_MAX / dtype_size(dtype) || numel * dtype_size(dtype) != bytes.size())
    throw ModelError(name_ + ": tensor '" + printable(name) + "' has shape " + t.shape_string() +
                     " but " + std::to_string(bytes.size()) + " bytes of " + dtype_name(dtype));
  buffers_.push_back({std::move(bytes), 1, 0});
  t.begin = 0;
  t.end = buffers_.back().bytes.size();
  t.data = buffers_.back().bytes.data();
  tensors_.emplace(name, std::move(t));
}

TensorBuffers::Buffer &TensorBuffers::buffer_of(const uint8_t *data) const {
  // Few hundred buffers at most, looked up once per tensor at load.
  for (Buffer &b : buffers_)
    if (b.bytes.data() == data)
      return b;
  throw ModelError(name_ + ": internal error: a tensor outside the archive's buffers");
}

void TensorBuffers::release(const TensorEntry &tensor) const {
  if (tensor.data == nullptr || tensor.bytes() == 0)
    return;
  Buffer &b = buffer_of(tensor.data);
  if (++b.released >= b.names)
    std::vector<uint8_t>().swap(b.bytes);
}

void TensorBuffers::alias(const std::string &name, const std::string &existing) {
  if (tensors_.count(name))
    throw ModelError(name_ + ": tensor '" + printable(name) + "' appears twice");
  TensorEntry t = get(existing);
  t.name = name;
  if (t.data != nullptr && t.bytes() != 0)
    ++buffer_of(t.data).names;
  tensors_.emplace(name, std::move(t));
}

} // namespace heed::io
