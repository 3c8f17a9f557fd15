// Reads named tensors out of a checkpoint (any TensorArchive) as float32, checking each shape
// against what config.json implies, and tracks which tensors were used so that
// unexpected ones are reported instead of silently ignored.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "heed/core/tensor.h"
#include "heed/io/tensor_archive.h"
#include "heed/layers/quantized_rows.h"

namespace heed {

// Quantized checkpoints (heed convert --quantize int8) store a weight matrix
// NAME [rows, cols] as I8 with a F32 tensor NAME + kScaleSuffix [rows]: the
// value of element (r, c) is NAME[r, c] * scale[r].
inline constexpr const char *kScaleSuffix = "_scale";

// Every matrix heed multiplies by: projections, feed-forward layers and the
// token embeddings (which double as the output projection), as named in the
// Hugging Face layout ("*.weight", two dimensions). Position tables are
// computed, not learned, and biases and norms are vectors. These are what
// `heed convert --quantize` converts and what bfloat16 compute rounds.
bool is_weight_matrix(const std::string &name, const std::vector<int64_t> &shape);

class WeightReader {
public:
  explicit WeightReader(const io::TensorArchive &file) : file_(file) {}

  bool has(const std::string &name) const { return file_.contains(name); }
  // Rounds each weight matrix (is_weight_matrix) to bfloat16 as it is read,
  // before loading folds anything into it (the attention scale), so that
  // bfloat16 compute on a float model is exactly compute on the copy `heed
  // convert --quantize bfloat16` writes of it.
  void round_matrices_to_bfloat16(bool round) { round_to_bfloat16_ = round; }
  // The tensor converted to float32 (I8 matrices dequantized with their
  // scales); ModelError naming file and tensor when it is missing or its shape
  // differs from `shape`.
  Tensor read(const std::string &name, const std::vector<int64_t> &shape);
  // ModelError unless the file holds `name` with `shape`: read_into's check,
  // for a caller that must know the shapes before it allocates (a config.json
  // must not make heed allocate what the file does not back).
  void require(const std::string &name, const std::vector<int64_t> &shape) const;
  // The same into `out`, which holds the product of `shape` floats: part of a
  // larger tensor (the fused Q/K/V projection reads its parts into its rows,
  // with no copy of each).
  void read_into(const std::string &name, const std::vector<int64_t> &shape, float *out);
  // A matrix [rows, cols] as read() gives it, handed to `sink` in order in
  // blocks of `block_rows` rows (the last may be shorter) through one buffer
  // of that many rows, so that it never exists whole in float32: for packing
  // it block by block (ops::PackedWeights::from_row_blocks). ModelError as
  // read(), before any block when the shape is wrong.
  void
  read_row_blocks(const std::string &name, const std::vector<int64_t> &shape, int64_t block_rows,
                  const std::function<void(int64_t first, int64_t rows, const float *w)> &sink);
  // A weight matrix [rows, cols] for int8 compute, into q[rows, cols] and
  // scales[rows] (quantize_rows' layout): an I8 tensor's values and scales as
  // they are; a float one quantized row by row, in blocks of rows converted
  // while in cache, never held whole in float32. ModelError as read().
  void read_int8_into(const std::string &name, const std::vector<int64_t> &shape, int8_t *q,
                      float *scales);
  QuantizedRows read_int8(const std::string &name, const std::vector<int64_t> &shape);
  // Checks the shape of a tensor heed does not need (a tied duplicate).
  void skip(const std::string &name, const std::vector<int64_t> &shape);
  // ModelError listing tensors that no read or skip accounted for.
  void check_all_used() const;

  const io::TensorArchive &file() const { return file_; }

private:
  bool round_to_bfloat16_ = false;
  const io::TensorEntry &check(const std::string &name, const std::vector<int64_t> &shape);
  // check() for a tensor about to be read (and released): ModelError if it was
  // read before.
  const io::TensorEntry &take(const std::string &name, const std::vector<int64_t> &shape);
  // The float scales of I8 matrix `name` [rows, ...], checked and marked used.
  const io::TensorEntry &int8_scales(const std::string &name, const std::vector<int64_t> &shape);
  // Values [begin, end) of the taken tensor `entry` [rows, cols] of `name`
  // into out, converted (I8: times the row's scale from `scales`), checked
  // finite and rounded as read() does; false where one is not finite.
  bool convert(const io::TensorEntry &entry, const std::string &name,
               const std::vector<int64_t> &shape, const float *scales, int64_t begin, int64_t end,
               float *out) const;

  const io::TensorArchive &file_;
  std::set<std::string> used_;
};

} // namespace heed
