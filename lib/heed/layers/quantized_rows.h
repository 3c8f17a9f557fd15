// A matrix in int8 with one scale per row, as `heed convert --quantize int8`
// stores it (I8 tensor + F32 "_scale" tensor) and as ops::quantize_rows makes
// it: element (r, c) stands for values[r * cols + c] * scales[r]. int8
// compute keeps token tables in this form and packs weight matrices from it,
// so that a converted model and a float one quantized at load compute alike.
#pragma once

#include <cstdint>
#include <vector>

namespace heed {

struct QuantizedRows {
  std::vector<int8_t> values; // [rows, cols]
  std::vector<float> scales;  // [rows]
  int64_t rows = 0, cols = 0;

  bool empty() const { return values.empty(); }
  void resize(int64_t r, int64_t c) {
    rows = r;
    cols = c;
    values.resize(static_cast<size_t>(r * c));
    scales.resize(static_cast<size_t>(r));
  }
};

} // namespace heed
