#include "heed/model/weight_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "heed/core/bfloat16.h"
#include "heed/core/error.h"
#include "heed/core/finite.h"
#include "heed/core/prefault.h"
#include "heed/ops/quantize.h"

namespace heed {
namespace {

std::string shape_string(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// One NaN or infinity in a weight poisons every translation that touches it
// (empty outputs, meaningless scores), so a tensor holding one is refused at
// load, naming it: one vectorised pass (core/finite.h), then a second only to
// describe a tensor that fails it.
void check_finite(const float *v, const std::vector<int64_t> &shape, const std::string &file,
                  const std::string &name) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  if (all_finite(v, n))
    return;
  int64_t bad = 0, first = -1;
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i])) {
      if (first < 0)
        first = i;
      ++bad;
    }
  if (bad == 0)
    return;
  const float x = v[first];
  throw ModelError(file + ": tensor '" + name + "' holds " + std::to_string(bad) +
                   " non-finite value(s) (the first, " +
                   (std::isnan(x) ? "nan" : (x > 0 ? "inf" : "-inf")) + ", at flat index " +
                   std::to_string(first) + " of shape " + shape_string(shape) +
                   "); the model is corrupt");
}

} // namespace

void WeightReader::require(const std::string &name, const std::vector<int64_t> &shape) const {
  const io::TensorEntry &entry = file_.get(name);
  if (entry.shape != shape)
    throw ModelError(file_.path() + ": tensor '" + name + "' has shape " + entry.shape_string() +
                     " but config.json implies " + shape_string(shape));
}

const io::TensorEntry &WeightReader::check(const std::string &name,
                                           const std::vector<int64_t> &shape) {
  require(name, shape);
  used_.insert(name);
  return file_.get(name);
}

const io::TensorEntry &WeightReader::take(const std::string &name,
                                          const std::vector<int64_t> &shape) {
  // Reading releases the tensor's bytes (TensorArchive::release): once only.
  if (used_.count(name))
    throw ModelError(file_.path() + ": tensor '" + name + "' is read twice (a loader bug)");
  return check(name, shape);
}

bool is_weight_matrix(const std::string &name, const std::vector<int64_t> &shape) {
  const std::string suffix = ".weight";
  return shape.size() == 2 && name.size() >= suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
         name.find("embed_positions") == std::string::npos;
}

Tensor WeightReader::read(const std::string &name, const std::vector<int64_t> &shape) {
  require(name, shape); // before allocating what config.json asks for
  Tensor t(shape);
  // read_into() writes every value (core/prefault.h).
  prefault_for_writing(t.data(), sizeof(float) * static_cast<size_t>(t.size()));
  read_into(name, shape, t.data());
  return t;
}

// Rounds finite floats to bfloat16 (to nearest even), kept as floats. The
// values are finite (checked first), so to_bfloat16's NaN case never applies:
// the rounding alone, branch-free, vectorises.
static void round_to_bfloat16(float *v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, v + i, sizeof bits);
    bits = round_bits_to_bfloat16(bits) & 0xffff0000u;
    std::memcpy(v + i, &bits, sizeof bits);
  }
}

bool WeightReader::convert(const io::TensorEntry &entry, const std::string &name,
                           const std::vector<int64_t> &shape, const float *scales, int64_t begin,
                           int64_t end, float *out) const {
  const bool round = round_to_bfloat16_ && is_weight_matrix(name, shape);
  if (entry.dtype != io::DType::i8) {
    // Converting, checking and rounding is most of a load's own CPU time
    // (the rest is oneDNN's reorders, already parallel): done in blocks of
    // 64K values spread over the threads, each block in one pass while it is
    // in cache.
    constexpr int64_t kBlock = int64_t{1} << 16;
    const int64_t n = end - begin, blocks = (n + kBlock - 1) / kBlock;
    bool finite = true;
#pragma omp parallel for schedule(static) reduction(&& : finite) if (blocks > 1)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t at = b * kBlock, count = std::min(kBlock, n - at);
      io::TensorArchive::to_float(entry, out + at, begin + at, begin + at + count);
      const bool block_finite = all_finite(out + at, count);
      if (round && block_finite)
        round_to_bfloat16(out + at, count);
      finite = finite && block_finite;
    }
    return finite;
  }
  // An I8 matrix for float32 compute: dequantized row by row over the threads
  // (tc-big's token table alone is 60M values).
  const int64_t cols = shape[1], first = begin / cols, last = end / cols;
  if (begin % cols != 0 || end % cols != 0)
    throw std::logic_error("WeightReader::convert: I8 values in whole rows only");
#pragma omp parallel for schedule(static) if (end - begin > (int64_t{1} << 16))
  for (int64_t r = first; r < last; ++r) {
    float *row = out + (r - first) * cols;
    io::TensorArchive::to_float(entry, row, r * cols, (r + 1) * cols);
    for (int64_t c = 0; c < cols; ++c)
      row[c] *= scales[r];
  }
  const bool finite = all_finite(out, end - begin);
  if (round && finite)
    round_to_bfloat16(out, end - begin);
  return finite;
}

void WeightReader::read_into(const std::string &name, const std::vector<int64_t> &shape, float *t) {
  const io::TensorEntry &entry = take(name, shape);
  Tensor scales;
  if (entry.dtype == io::DType::i8) {
    const io::TensorEntry &scale_entry = int8_scales(name, shape);
    scales = Tensor({shape[0]});
    io::TensorArchive::to_float(scale_entry, scales.data());
  }
  const bool finite = convert(entry, name, shape, scales.data(), 0, entry.numel(), t);
  file_.release(entry);
  if (!finite)
    check_finite(t, shape, file_.path(), name); // describes and throws
}

void WeightReader::read_row_blocks(
    const std::string &name, const std::vector<int64_t> &shape, int64_t block_rows,
    const std::function<void(int64_t first, int64_t rows, const float *w)> &sink) {
  if (shape.size() != 2 || block_rows < 1)
    throw std::logic_error("WeightReader::read_row_blocks: a matrix, in blocks of rows");
  const io::TensorEntry &entry = take(name, shape);
  const int64_t rows = shape[0], cols = shape[1];
  Tensor scales;
  if (entry.dtype == io::DType::i8) {
    const io::TensorEntry &scale_entry = int8_scales(name, shape);
    scales = Tensor({rows});
    io::TensorArchive::to_float(scale_entry, scales.data());
  }
  Tensor block({std::min(block_rows, rows), cols});
  // Every block writes the buffer whole (core/prefault.h).
  prefault_for_writing(block.data(), sizeof(float) * static_cast<size_t>(block.size()));
  for (int64_t first = 0; first < rows; first += block_rows) {
    const int64_t count = std::min(block_rows, rows - first);
    if (!convert(entry, name, shape, scales.data(), first * cols, (first + count) * cols,
                 block.data())) {
      // Described from a float32 copy: only for a file that is refused anyway.
      Tensor all(shape);
      convert(entry, name, shape, scales.data(), 0, rows * cols, all.data());
      check_finite(all.data(), shape, file_.path(), name); // describes and throws
    }
    sink(first, count, block.data());
  }
  file_.release(entry);
}

const io::TensorEntry &WeightReader::int8_scales(const std::string &name,
                                                 const std::vector<int64_t> &shape) {
  if (shape.size() != 2)
    throw ModelError(file_.path() + ": tensor '" + name +
                     "' is I8 but only weight matrices can be quantized");
  const std::string scale_name = name + kScaleSuffix;
  if (!file_.contains(scale_name))
    throw ModelError(file_.path() + ": tensor '" + name + "' is I8 but its scales '" + scale_name +
                     "' are missing");
  const io::TensorEntry &scale_entry = check(scale_name, {shape[0]});
  if (scale_entry.dtype == io::DType::i8)
    throw ModelError(file_.path() + ": scales '" + scale_name + "' must be floating point");
  return scale_entry;
}

void WeightReader::read_int8_into(const std::string &name, const std::vector<int64_t> &shape,
                                  int8_t *q, float *scales) {
  const io::TensorEntry &entry = take(name, shape);
  if (shape.size() != 2)
    throw std::logic_error("WeightReader::read_int8_into: '" + name + "' is not a matrix");
  const int64_t rows = shape[0], cols = shape[1];
  if (entry.dtype == io::DType::i8) {
    // The file's own quantization: no float32 round trip, which could only
    // move a scale by rounding.
    std::memcpy(q, entry.data, static_cast<size_t>(rows * cols));
    file_.release(entry);
    const io::TensorEntry &scale_entry = int8_scales(name, shape);
    io::TensorArchive::to_float(scale_entry, scales);
    check_finite(scales, {rows}, file_.path(), scale_entry.name);
    return;
  }
  // Blocks of whole rows (at least one) of about 64K values, each converted,
  // checked and quantized while in cache, spread over the threads.
  const int64_t block_rows = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, cols));
  const int64_t blocks = (rows + block_rows - 1) / block_rows;
  bool finite = true;
#pragma omp parallel reduction(&& : finite) if (blocks > 1)
  {
    std::vector<float> values(static_cast<size_t>(std::min(block_rows, rows) * cols));
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t first = b * block_rows, count = std::min(block_rows, rows - first);
      io::TensorArchive::to_float(entry, values.data(), first * cols, (first + count) * cols);
      if (!all_finite(values.data(), count * cols)) {
        finite = false;
        continue;
      }
      ops::quantize_rows(values.data(), count, cols, cols, q + first * cols, scales + first);
    }
  }
  if (!finite) {
    // Described from a float32 copy: only for a file that is refused anyway.
    std::vector<float> all(static_cast<size_t>(rows * cols));
    io::TensorArchive::to_float(entry, all.data());
    check_finite(all.data(), shape, file_.path(), name); // describes and throws
  }
  file_.release(entry);
}

QuantizedRows WeightReader::read_int8(const std::string &name, const std::vector<int64_t> &shape) {
  require(name, shape); // before allocating what config.json asks for
  if (shape.size() != 2)
    throw std::logic_error("WeightReader::read_int8: '" + name + "' is not a matrix");
  QuantizedRows m;
  m.resize(shape[0], shape[1]);
  read_int8_into(name, shape, m.values.data(), m.scales.data());
  return m;
}

void WeightReader::skip(const std::string &name, const std::vector<int64_t> &shape) {
  if (check(name, shape).dtype == io::DType::i8 && file_.contains(name + kScaleSuffix))
    used_.insert(name + kScaleSuffix);
}

void WeightReader::check_all_used() const {
  std::string unexpected;
  int count = 0;
  for (const auto &[name, entry] : file_.tensors()) {
    if (used_.count(name))
      continue;
    if (count < 5)
      unexpected += (count ? ", '" : "'") + name + "'";
    ++count;
  }
  if (count > 0)
    throw ModelError(file_.path() + ": " + std::to_string(count) +
                     " unexpected tensor(s) for this config.json: " + unexpected +
                     (count > 5 ? ", ..." : ""));
}

} // namespace heed
