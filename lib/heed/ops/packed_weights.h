// Weights of a dense layer prepared once, at load, for oneDNN's matmul: float32,
// int8 (symmetric, one scale per output channel, 8 or 7 bits: cpu_isa.h) or
// bfloat16 (rounded to nearest even), reordered into the blocked layout the
// matmul implementation asks for (format_tag::any), so that no decoding step
// re-packs a weight matrix. bfloat16 is refused (OptionError) where oneDNN has
// only reference kernels for it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "heed/ops/activation.h"
#include "heed/ops/compute_type.h"

namespace heed::ops {

class PackedWeights {
public:
  PackedWeights() = default;
  // W[N, K] row-major, as in a torch Linear (N outputs, K inputs).
  PackedWeights(const float *w, int64_t N, int64_t K, ComputeType type);
  // int8 from weights already quantized to 8 bits, q[N, K] row-major with one
  // scale per row (a model converted to int8, or a token table kept in int8):
  // packed as they are on VNNI, narrowed as quantize_int8_weights narrows
  // elsewhere, so that both constructors give the same packed weights for
  // q, scales = quantize_rows(w). q is only read during the call.
  PackedWeights(const int8_t *q, const float *scales, int64_t N, int64_t K);

  // Receives rows [first, first + rows) of W as w[rows, K].
  using RowBlockSink = std::function<void(int64_t first, int64_t rows, const float *w)>;
  // Hands `sink` every row of W, in order, in blocks of `block_rows` rows (the
  // last may be shorter).
  using RowBlockSource = std::function<void(int64_t block_rows, const RowBlockSink &sink)>;
  // float32 or bfloat16 W[N, K] packed block by block as `source` gives it,
  // so that W never exists whole in float32 (a token table read from its file:
  // 119 MB in OPUS-MT en-de, 246 MB in tc-big). The packed bytes are those of
  // PackedWeights(w, N, K, type). Each block goes into its part of the
  // packed layout, which is why the blocks are whole blocks of that layout
  // (64 rows in oneDNN 2.6's AVX-512 matmul); a layout that cannot be split
  // so takes all N rows as one block. std::logic_error for int8, or when
  // `source` does not give each row once, in order.
  static PackedWeights from_row_blocks(int64_t N, int64_t K, ComputeType type,
                                       const RowBlockSource &source);

  bool empty() const { return impl_ == nullptr; }
  ComputeType type() const;
  int64_t outputs() const; // N
  int64_t inputs() const;  // K
  size_t bytes() const;    // packed storage, scales included
  // int8: the per-output-channel scales (empty for float32).
  const std::vector<float> &scales() const;
  // int8: the largest |quantized weight| (int8_kernels().weight_levels when
  // packed); 0 for other types.
  int weight_levels() const;

  // Whether read_row() gives the values the products use: true for float32,
  // bfloat16 and 8-bit int8 weights packed for matmul; false for int8 narrowed
  // below 8 bits or packed as a convolution (processors without VNNI), whose
  // values differ from the 8-bit table they were made from.
  bool rows_readable() const;
  // out[K] = row n of W as the products see it: the packed float32 value,
  // the bfloat16 one widened, or q x the row's scale (int8; the scale first,
  // as a model converted to int8 is read). Read from the packed layout, so
  // that a tied token table needs no copy of its own (58,101 x 512 floats in
  // OPUS-MT en-de: 119 MB). Throws std::logic_error where !rows_readable().
  void read_row(int64_t n, float *out) const;

  struct Impl;
  const Impl &impl() const { return *impl_; }

private:
  std::shared_ptr<const Impl> impl_;
};

// The int8 weights PackedWeights computes with: W[N, K] quantized per row to
// 8 bits and, where levels < 127, those 8-bit values narrowed to `levels`
// (requantized from q x scale, as loading a model converted to int8 does, so
// that both give the same weights).
void quantize_int8_weights(const float *w, int64_t N, int64_t K, int levels, int8_t *q,
                           float *scales);
// 8-bit weights q[N, K] with their row scales narrowed in place to `levels`:
// each row read back as q x scale and quantized again (nothing when levels is
// 127).
void narrow_int8_weights(int8_t *q, float *scales, int64_t N, int64_t K, int levels);

// y[M,N] (row stride ldy) = act(x[M,K] (row stride ldx) · Wᵀ + bias), or with
// `accumulate` y += x · Wᵀ + bias. With int8 weights x is quantized on the fly
// (symmetric, one scale per row of x, i.e. per token) and the product rescaled
// to float32 by that row's scale times each output channel's weight scale; with
// bfloat16 weights x is rounded to bfloat16 and the products summed in float32.
void linear(const float *x, int64_t ldx, const PackedWeights &w, const float *bias, float *y,
            int64_t ldy, int64_t M, Activation act = Activation::none, bool accumulate = false);

// The oneDNN implementation that runs linear() for M rows (e.g.
// "brg:avx512_core_vnni"), for tests and benchmarks: "ref" ones are the slow
// fallbacks.
std::string linear_implementation(const PackedWeights &w, int64_t M, bool has_bias,
                                  Activation act = Activation::none, bool accumulate = false);

// The oneDNN reorder that packed w at load (e.g. "jit:uni"), for tests:
// "simple:any" is a reference one, 13x slower on int8 weights (see Shape in
// packed_weights.cpp).
std::string packing_implementation(const PackedWeights &w);

} // namespace heed::ops
