#include "heed/text/blank_text.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

namespace heed {
namespace {

struct Range {
  char32_t first, last;
};

// White_Space, Cc and Cf code points (Unicode 15.0), merged and sorted.
constexpr Range kInvisible[] = {
    {0x0000, 0x0020},   {0x007F, 0x00A0},   {0x00AD, 0x00AD},   {0x0600, 0x0605},
    {0x061C, 0x061C},   {0x06DD, 0x06DD},   {0x070F, 0x070F},   {0x0890, 0x0891},
    {0x08E2, 0x08E2},   {0x1680, 0x1680},   {0x180E, 0x180E},   {0x2000, 0x200F},
    {0x2028, 0x202F},   {0x205F, 0x2064},   {0x2066, 0x206F},   {0x3000, 0x3000},
    {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
    {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
    {0xE0020, 0xE007F},
};

bool invisible(char32_t c) {
  const auto it = std::upper_bound(std::begin(kInvisible), std::end(kInvisible), c,
                                   [](char32_t v, const Range &r) { return v < r.first; });
  return it != std::begin(kInvisible) && c <= std::prev(it)->last;
}

} // namespace

bool is_blank_text(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const auto b0 = static_cast<uint8_t>(text[i]);
    size_t n = b0 < 0x80 ? 1 : b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 0;
    if (n == 0 || i + n > text.size())
      return false;
    char32_t c = n == 1 ? b0 : b0 & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      const auto b = static_cast<uint8_t>(text[i + k]);
      if ((b & 0xC0) != 0x80)
        return false;
      c = (c << 6) | (b & 0x3F);
    }
    if (!invisible(c))
      return false;
    i += n;
  }
  return true;
}

} // namespace heed
