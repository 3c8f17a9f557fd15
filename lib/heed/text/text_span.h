// A part of a text as byte offsets: where a sentence lies in its line. Part of
// heed's public interface (decoding/translation.h): standard library only.
#pragma once

#include <cstddef>
#include <string_view>

namespace heed {

// A part of a text: bytes [begin, end).
struct TextSpan {
  size_t begin = 0;
  size_t end = 0;

  size_t size() const { return end - begin; }
  std::string_view of(std::string_view text) const { return text.substr(begin, end - begin); }
  bool operator==(const TextSpan &) const = default;
};

} // namespace heed
