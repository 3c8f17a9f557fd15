// bfloat16: the upper 16 bits of a float32 (sign, 8-bit exponent, 7-bit
// mantissa). float32 -> bfloat16 rounds to nearest, ties to even, as
// vcvtneps2bf16, oneDNN's reorders and torch's .to(torch.bfloat16) do; NaN
// stays NaN (made quiet), infinities stay infinite.
#pragma once

#include <cstdint>
#include <cstring>

namespace heed {

// The float32 bits of a non-NaN value with the upper 16 bits rounded to
// bfloat16 (the lower 16 are left over): adding 0x7fff plus the lowest kept
// bit rounds ties to the even neighbour; a carry into the exponent rounds up
// to the next binade, or to infinity. Branch-free, so loops over finite
// values vectorise.
inline uint32_t round_bits_to_bfloat16(uint32_t bits) {
  return bits + 0x7fffu + ((bits >> 16) & 1u);
}

inline uint16_t to_bfloat16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) // NaN: keep it a (quiet) NaN
    return static_cast<uint16_t>((bits >> 16) | 0x0040u);
  return static_cast<uint16_t>(round_bits_to_bfloat16(bits) >> 16);
}

inline float from_bfloat16(uint16_t value) {
  const uint32_t bits = static_cast<uint32_t>(value) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

} // namespace heed
