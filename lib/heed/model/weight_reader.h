// Reads named tensors out of a safetensors file as float32, checking each shape
// against what config.json implies, and tracks which tensors were used so that
// unexpected ones are reported instead of silently ignored.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "heed/core/tensor.h"
#include "heed/io/safetensors.h"

namespace heed {

// Quantized checkpoints (heed convert --quantize int8) store a weight matrix
// NAME [rows, cols] as I8 with a F32 tensor NAME + kScaleSuffix [rows]: the
// value of element (r, c) is NAME[r, c] * scale[r].
inline constexpr const char *kScaleSuffix = "_scale";

class WeightReader {
public:
  explicit WeightReader(const io::SafetensorsFile &file) : file_(file) {}

  bool has(const std::string &name) const { return file_.contains(name); }
  // The tensor converted to float32 (I8 matrices dequantized with their
  // scales); ModelError naming file and tensor when it is missing or its shape
  // differs from `shape`.
  Tensor read(const std::string &name, const std::vector<int64_t> &shape);
  // Checks the shape of a tensor heed does not need (a tied duplicate).
  void skip(const std::string &name, const std::vector<int64_t> &shape);
  // ModelError listing tensors that no read or skip accounted for.
  void check_all_used() const;

  const io::SafetensorsFile &file() const { return file_; }

private:
  const io::TensorEntry &check(const std::string &name, const std::vector<int64_t> &shape);

  const io::SafetensorsFile &file_;
  std::set<std::string> used_;
};

} // namespace heed
