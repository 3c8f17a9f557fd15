#include "heed/outputs/float_json.h"

#include <charconv>
#include <cmath>

namespace heed {

void append_float_json(std::string &out, float value, int decimals) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buffer[64];
  std::to_chars_result end;
  if (decimals < 0) {
    end = std::to_chars(buffer, buffer + sizeof buffer, value);
  } else {
    end = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, decimals);
    // "0.2500" -> "0.25", "1.0000" -> "1", "-0.0000" -> "0"
    char *p = end.ptr;
    if (std::string_view(buffer, static_cast<size_t>(p - buffer)).find('.') !=
        std::string_view::npos) {
      while (p[-1] == '0')
        --p;
      if (p[-1] == '.')
        --p;
    }
    end.ptr = p;
    if (std::string_view(buffer, static_cast<size_t>(p - buffer)) == "-0") {
      out += '0';
      return;
    }
  }
  out.append(buffer, end.ptr);
}

namespace {

// Writes dimension `axis` onwards of the block at `data`; returns the floats consumed.
int64_t append_block(std::string &out, const float *data, const std::vector<int64_t> &shape,
                     size_t axis, int decimals) {
  if (axis == shape.size()) {
    append_float_json(out, *data, decimals);
    return 1;
  }
  out += '[';
  int64_t used = 0;
  for (int64_t i = 0; i < shape[axis]; ++i) {
    if (i > 0)
      out += ',';
    used += append_block(out, data + used, shape, axis + 1, decimals);
  }
  out += ']';
  return used;
}

} // namespace

void append_nested_array_json(std::string &out, const float *data,
                              const std::vector<int64_t> &shape, int decimals) {
  append_block(out, data, shape, 0, decimals);
}

} // namespace heed
