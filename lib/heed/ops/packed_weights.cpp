#include "heed/ops/packed_weights.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "heed/core/bfloat16.h"
#include "heed/core/error.h"
#include "heed/core/prefault.h"
#include "heed/ops/bfloat16.h"
#include "heed/ops/context.h"
#include "heed/ops/cpu_isa.h"
#include "heed/ops/post_ops.h"
#include "heed/ops/primitive_cache.h"
#include "heed/ops/quantize.h"

namespace heed::ops {

struct PackedWeights::Impl {
  ComputeType type = ComputeType::float32;
  int64_t N = 0, K = 0;
  dnnl::memory packed; // owns the reordered weights
  std::vector<float> scales;
  int weight_levels = 0;                   // int8: largest |quantized weight|
  bool convolution = false;                // int8 without VNNI: a 1x1 convolution (see Shape)
  std::vector<int32_t> shift_compensation; // int8: 128 x each weight row's sum (see Shape)
  std::string packing;                     // the oneDNN reorder that packed them
  // read_row(): where each k of a row lies in `packed`, made at the first read
  // (only a tied token table is read).
  mutable std::once_flag row_offsets_made;
  mutable std::vector<int64_t> k_offsets;
};

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// The blocked weight layout oneDNN picks depends on K, N and the data type, not
// on the number of rows, so packing against one row count serves all (each
// primitive checks it: make_primitive).
constexpr int64_t kPackingRows = 32;

dt weight_type(ComputeType type) {
  switch (type) {
  case ComputeType::int8:
    return dt::s8;
  case ComputeType::bfloat16:
    return dt::bf16;
  case ComputeType::float32:
    break;
  }
  return dt::f32;
}

// A torch weight W[N,K] row-major is the K x N matrix with strides (1, K):
// int8 once quantized, else the float32 weights (the reorder into the packed
// layout rounds them to bfloat16, to nearest even).
memory::desc plain_weights_desc(ComputeType type, int64_t K, int64_t N) {
  return memory::desc({K, N}, type == ComputeType::int8 ? dt::s8 : dt::f32, memory::dims{1, K});
}

// int8 products take u8 activations (the s8 ones + 128) and give exact int32
// sums, from which finish_int8 takes 128 x the weight row sums
// (shift_compensation) before scaling. With an s8 source oneDNN 2.6 packs
// the weights with its own compensation, in a reference reorder (simple:any)
// 13x slower than the jit one an u8 source gets: 20.5 vs 1.55 ms (medians
// of 3) for 1024 x 4096 weights, most of a tc-big int8 model's load; and without VNNI its
// convolutions would halve the weights themselves (rounding them again) to
// avoid the saturation that heed's 7-bit weights already rule out.
//
// convolution: int8 without VNNI runs as a 1x1 convolution over an M x 1
// image with K input and N output channels, channels last, which is the same
// memory as x[M,K] and y[M,N]. oneDNN 2.6's int8 matmul there (gemm:jit)
// repacks the weights and their compensation at every call: 3.7 ms of CPU for
// a 1 x 512 by 512 x 2048 product against 0.045 ms for the convolution
// (jit_uni_int8_1x1:avx2, weights reordered once), 45 vs 1.2 ms for a
// 58,101-entry vocabulary projection; still 1.9x at 128 rows.
struct Shape {
  ComputeType type;
  int64_t M, K, N, ldx, ldy;
  bool has_bias;
  Activation act;
  bool accumulate;
  bool convolution;
};

memory::desc convolution_weights_desc(int64_t N, int64_t K, tag layout) {
  return memory::desc({N, K, 1, 1}, dt::s8, layout);
}

// float32: y = act(x·W + b) with the bias in the matmul, or y += x·W + b.
// bfloat16: the same with x converted to a dense bfloat16 copy (oneDNN 2.6
// multiplies bfloat16 by bfloat16 only), accumulating and writing float32.
// int8: dense exact int32 sums (oneDNN 2.6 runs its VNNI kernels neither
// with per-row binary post-ops nor with output scales given at run time); the
// compensation, all scales, bias, residual and activation follow in
// finish_int8().
dnnl::primitive_desc make_primitive_desc(const Shape &s, const memory::desc &weights) {
  auto &ctx = context();
  const bool int8 = s.type == ComputeType::int8;
  if (s.convolution) {
    // Dense exact int32 sums: the compensation, all scales, bias, residual
    // and activation follow in finish_int8().
    const memory::desc src({1, s.K, s.M, 1}, dt::u8, tag::nhwc);
    const memory::desc dst({1, s.N, s.M, 1}, dt::s32, tag::nhwc);
    const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference,
                                               dnnl::algorithm::convolution_direct, src, weights,
                                               dst, {1, 1}, {0, 0}, {0, 0});
    return dnnl::convolution_forward::primitive_desc(desc, ctx.engine);
  }
  memory::desc src = s.type == ComputeType::float32
                         ? memory::desc({s.M, s.K}, dt::f32, memory::dims{s.ldx, 1})
                         : memory::desc({s.M, s.K}, int8 ? dt::u8 : dt::bf16, tag::ab);
  memory::desc dst({s.M, s.N}, int8 ? dt::s32 : dt::f32, memory::dims{s.ldy, 1});
  memory::desc row({1, s.N}, dt::f32, tag::ab);
  dnnl::post_ops ops;
  if (!int8) {
    if (s.accumulate)
      ops.append_sum(1.f);
    append_activation(ops, s.act);
  }
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  auto desc = !int8 && s.has_bias ? dnnl::matmul::desc(src, weights, row, dst)
                                  : dnnl::matmul::desc(src, weights, dst);
  dnnl::matmul::primitive_desc pd;
  try {
    pd = dnnl::matmul::primitive_desc(desc, attr, ctx.engine);
  } catch (const dnnl::error &) {
    if (s.type != ComputeType::bfloat16)
      throw;
    pd = {};
  }
  // oneDNN falls back to its reference kernels (hundreds of times slower) or
  // to none for bfloat16 where the processor lacks it: refuse rather than run
  // them silently. Model loading checks the processor first (cpu_isa.h); this
  // catches any shape the optimized kernels would still leave out.
  if (s.type == ComputeType::bfloat16 &&
      (!pd || std::string(pd.impl_info_str()).rfind("ref", 0) == 0))
    throw OptionError("compute type bfloat16: oneDNN has no optimized kernel for a " +
                      std::to_string(s.M) + "x" + std::to_string(s.K) + " by " +
                      std::to_string(s.K) + "x" + std::to_string(s.N) + " matmul here (" +
                      (pd ? std::string(pd.impl_info_str()) : std::string("none")) + "; " +
                      (has_bfloat16_kernels() ? "oneDNN reports " + cpu_isa_name()
                                              : bfloat16_unavailable_reason()) +
                      ")");
  return pd;
}

// Memory objects are handles: rebinding a data pointer updates `args` too.
struct PackedPrimitive {
  dnnl::primitive primitive; // matmul or convolution
  memory src, weights, dst, bias;
  std::unordered_map<int, memory> args;
};

PackedPrimitive make_primitive(const Shape &s, const memory::desc &weights) {
  auto &ctx = context();
  const auto pd = make_primitive_desc(s, weights);
  // The weights were packed once for kPackingRows rows; a primitive that
  // wanted them in another layout would read them wrongly.
  if (pd.weights_desc(0) != weights)
    throw std::logic_error("ops::linear: oneDNN (" + std::string(pd.impl_info_str()) +
                           ") wants another weight layout for " + std::to_string(s.M) +
                           " rows than the one packed at load");
  PackedPrimitive p;
  p.primitive = dnnl::primitive(pd);
  p.src = memory(pd.src_desc(0), ctx.engine, DNNL_MEMORY_NONE);
  p.weights = memory(pd.weights_desc(0), ctx.engine, DNNL_MEMORY_NONE);
  p.dst = memory(pd.dst_desc(0), ctx.engine, DNNL_MEMORY_NONE);
  p.args = {{DNNL_ARG_SRC, p.src}, {DNNL_ARG_WEIGHTS, p.weights}, {DNNL_ARG_DST, p.dst}};
  const memory::desc row({1, s.N}, dt::f32, tag::ab);
  // int8 takes no further arguments: its bias comes in finish_int8().
  if (s.type != ComputeType::int8 && s.has_bias) {
    p.bias = memory(row, ctx.engine, DNNL_MEMORY_NONE);
    p.args.emplace(DNNL_ARG_BIAS, p.bias);
  }
  return p;
}

PrimitiveCache<PackedPrimitive> &primitive_cache() {
  thread_local PrimitiveCache<PackedPrimitive> cache;
  return cache;
}

// Per-thread buffers reused across calls: quantized (int8) or converted
// (bfloat16) activations, their row scales and the scaled product. They only
// grow, so a warm decoding loop allocates nothing.
struct Scratch {
  std::vector<int8_t> quantized;
  std::vector<uint16_t> bfloat16;
  std::vector<float> row_scales;
  std::vector<int32_t> sums; // int8 product
};
Scratch &scratch_buffers() {
  thread_local Scratch scratch;
  return scratch;
}

template <typename T> void grow(std::vector<T> &v, int64_t n) {
  if (v.size() < static_cast<size_t>(n))
    v.resize(static_cast<size_t>(n));
}

// The int8 product itself is always dense, without bias or activation (see
// make_primitive_desc); int8 and bfloat16 read a dense copy of the
// activations.
Shape shape_of(const PackedWeights &w, int64_t M, int64_t ldx, int64_t ldy, bool has_bias,
               Activation act, bool accumulate) {
  const PackedWeights::Impl &impl = w.impl();
  if (w.type() == ComputeType::int8)
    return Shape{w.type(),    M,     w.inputs(),       w.outputs(), w.inputs(),
                 w.outputs(), false, Activation::none, false,       impl.convolution};
  if (w.type() == ComputeType::bfloat16)
    ldx = w.inputs();
  return Shape{w.type(), M, w.inputs(), w.outputs(), ldx, ldy, has_bias, act, accumulate, false};
}

struct EltwisePrimitive {
  dnnl::eltwise_forward eltwise;
  memory data;
};

// act applied in place to y[M,N] (row stride ldy).
void activate_in_place(float *y, int64_t M, int64_t N, int64_t ldy, Activation act) {
  thread_local PrimitiveCache<EltwisePrimitive> cache;
  auto &ctx = context();
  const PrimitiveKey key{M, N, ldy, static_cast<int64_t>(act)};
  // As softmax (ops/softmax.cpp): one thread below 2^14 elements, where
  // waking a second costs more than it saves.
  const bool serial = M * N < (int64_t{1} << 14);
  auto &p = cache.get(key, [&] {
    SerialScope scope(serial);
    memory::desc md({M, N}, dt::f32, memory::dims{ldy, 1});
    dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference, eltwise_algorithm(act), md,
                                     eltwise_alpha(act), 0.f);
    EltwisePrimitive e;
    e.eltwise = dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(desc, ctx.engine));
    e.data = memory(md, ctx.engine, DNNL_MEMORY_NONE);
    return e;
  });
  p.data.set_data_handle(y);
  SerialScope scope(serial);
  p.eltwise.execute(ctx.stream, {{DNNL_ARG_SRC, p.data}, {DNNL_ARG_DST, p.data}});
  ctx.stream.wait();
}

// Where finish_int8() reads the int8 product from (when not in place, in y):
// int32 sums over u8 activations (q + 128), from which 128 x the weight row
// sums are taken, then scaled per column.
struct Int8Product {
  const int32_t *sums = nullptr;
  const int32_t *shift_compensation = nullptr;
  const float *column_scales = nullptr;
};

// One row of finish_int8(): out = product · s + bias, or out += product · s +
// bias. The flags are compile-time so that each loop vectorizes without
// branches; in place (the product in `out` itself) it reads through that one
// pointer, without an overlap check, with memcpy (the same bytes as float and
// as int32). The product is scaled by the column scale, then by the row's, as
// oneDNN's per-column post-op and this pass did before the sums were taken
// whole: the same float32 results.
template <bool kInPlace, bool kAccumulate, bool kBias>
void finish_row(const Int8Product &product, int64_t m, float s, const float *bias, float *out,
                int64_t N) {
  for (int64_t n = 0; n < N; ++n) {
    int32_t sum;
    if constexpr (kInPlace)
      std::memcpy(&sum, out + n, sizeof sum);
    else
      sum = product.sums[m * N + n];
    float v = static_cast<float>(sum - product.shift_compensation[n]) * product.column_scales[n];
    v = v * s;
    if constexpr (kBias)
      v = v + bias[n];
    if constexpr (kAccumulate)
      out[n] += v;
    else
      out[n] = v;
  }
}

template <bool kInPlace, bool kAccumulate>
void finish_row(const Int8Product &product, int64_t m, float s, const float *bias, float *out,
                int64_t N) {
  bias ? finish_row<kInPlace, kAccumulate, true>(product, m, s, bias, out, N)
       : finish_row<kInPlace, kAccumulate, false>(product, m, s, bias, out, N);
}

// y = act(product · row scale + bias), or y += product · row scale + bias.
// The product may be in y itself (dense, without accumulation).
void finish_int8(const Int8Product &product, bool in_place, const float *row_scales,
                 const float *bias, float *y, int64_t M, int64_t N, int64_t ldy, Activation act,
                 bool accumulate) {
  const bool parallel = M * N >= (int64_t{1} << 16);
#pragma omp parallel for if (parallel) schedule(static)
  for (int64_t m = 0; m < M; ++m) {
    float *out = y + m * ldy;
    if (in_place)
      finish_row<true, false>(product, m, row_scales[m], bias, out, N);
    else if (accumulate)
      finish_row<false, true>(product, m, row_scales[m], bias, out, N);
    else
      finish_row<false, false>(product, m, row_scales[m], bias, out, N);
  }
  if (act != Activation::none)
    activate_in_place(y, M, N, ldy, act);
}

// s8 -> u8 by adding 128 (flipping the sign bit), in place.
void shift_to_unsigned(int8_t *q, int64_t n) {
  auto *bytes = reinterpret_cast<uint8_t *>(q);
  for (int64_t i = 0; i < n; ++i)
    bytes[i] ^= 0x80u;
}

} // namespace

void narrow_int8_weights(int8_t *q, float *scales, int64_t N, int64_t K, int levels) {
  if (levels < 1 || levels > kInt8Levels)
    throw std::logic_error("narrow_int8_weights: levels must be in [1, 127]");
  if (levels == kInt8Levels)
    return;
#pragma omp parallel
  {
    std::vector<float> row(static_cast<size_t>(K));
#pragma omp for schedule(static)
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t k = 0; k < K; ++k)
        row[k] = static_cast<float>(q[n * K + k]) * scales[n];
      quantize_rows(row.data(), 1, K, K, q + n * K, scales + n, levels);
    }
  }
}

void quantize_int8_weights(const float *w, int64_t N, int64_t K, int levels, int8_t *q,
                           float *scales) {
  if (levels < 1 || levels > kInt8Levels)
    throw std::logic_error("quantize_int8_weights: levels must be in [1, 127]");
  quantize_rows(w, N, K, K, q, scales, kInt8Levels);
  // Narrower weights come from the 8-bit ones, exactly as a model converted
  // to int8 is narrowed (see narrow_int8_weights). (On the shipped model,
  // narrowing and quantizing straight to 7 bits score alike: see README.md.)
  narrow_int8_weights(q, scales, N, K, levels);
}

namespace {

// The layout oneDNN's matmul (or, for int8 without VNNI, convolution) asks
// for its weights, allocated in `impl.packed` with its pages resident.
memory::desc allocate_packed(PackedWeights::Impl &impl) {
  const ComputeType type = impl.type;
  const int64_t N = impl.N, K = impl.K;
  auto &ctx = context();
  const memory::desc any = impl.convolution ? convolution_weights_desc(N, K, tag::any)
                                            : memory::desc({K, N}, weight_type(type), tag::any);
  const Shape reference{type,  kPackingRows,    K, N, K, N, true, Activation::none,
                        false, impl.convolution};
  const memory::desc packed_desc = make_primitive_desc(reference, any).weights_desc(0);
  impl.packed = memory(packed_desc, ctx.engine);
  // The reorders write every byte: its pages in one call, not one fault each
  // (core/prefault.h).
  prefault_for_writing(impl.packed.get_data_handle(), packed_desc.get_size());
  return packed_desc;
}

// Reorders weights already in their final type (int8: at the processor's
// levels, scales and shift compensation set) into the layout oneDNN's matmul or
// convolution asks for.
void reorder_into_packed(PackedWeights::Impl &impl, const void *plain) {
  const int64_t N = impl.N, K = impl.K;
  auto &ctx = context();
  allocate_packed(impl);
  // W[N,K] row-major is also the N x K x 1 x 1 convolution weight in oihw.
  memory source(impl.convolution ? convolution_weights_desc(N, K, tag::oihw)
                                 : plain_weights_desc(impl.type, K, N),
                ctx.engine, const_cast<void *>(plain));
  const dnnl::reorder::primitive_desc reorder(source, impl.packed);
  impl.packing = reorder.impl_info_str();
  dnnl::reorder(reorder).execute(ctx.stream, source, impl.packed);
  ctx.stream.wait();
}

// The rows of W (the layout's dimension 1, N) that one block of the packed
// layout spans: a part of W starting at a multiple of it is a sub-memory the
// reorder can write alone. 0 where the layout is not oneDNN's plain blocking.
int64_t row_block_of(const memory::desc &packed) {
  const dnnl_memory_desc_t &d = packed.data;
  if (d.format_kind != dnnl_blocked || d.ndims != 2)
    return 0;
  int64_t rows = 1;
  for (int i = 0; i < d.format_desc.blocking.inner_nblks; ++i)
    if (d.format_desc.blocking.inner_idxs[i] == 1)
      rows *= d.format_desc.blocking.inner_blks[i];
  return rows;
}

// int8: q[N, K] at the processor's levels, with the compensation of the u8
// source (see Shape).
void pack_int8(PackedWeights::Impl &impl, const int8_t *q) {
  impl.convolution = !int8_kernels().vnni;
  impl.shift_compensation.resize(static_cast<size_t>(impl.N));
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < impl.N; ++n) {
    int32_t sum = 0;
    for (int64_t k = 0; k < impl.K; ++k)
      sum += q[n * impl.K + k];
    impl.shift_compensation[static_cast<size_t>(n)] = 128 * sum;
  }
  reorder_into_packed(impl, q);
}

} // namespace

PackedWeights::PackedWeights(const float *w, int64_t N, int64_t K, ComputeType type) {
  auto impl = std::make_shared<Impl>();
  impl->type = type;
  impl->N = N;
  impl->K = K;
  if (type == ComputeType::int8) {
    std::vector<int8_t> quantized(static_cast<size_t>(N * K));
    impl->scales.resize(static_cast<size_t>(N));
    impl->weight_levels = int8_kernels().weight_levels;
    quantize_int8_weights(w, N, K, impl->weight_levels, quantized.data(), impl->scales.data());
    pack_int8(*impl, quantized.data());
  } else {
    reorder_into_packed(*impl, w);
  }
  impl_ = std::move(impl);
}

PackedWeights PackedWeights::from_row_blocks(int64_t N, int64_t K, ComputeType type,
                                             const RowBlockSource &source) {
  if (type == ComputeType::int8)
    throw std::logic_error("PackedWeights::from_row_blocks: float32 or bfloat16 only");
  auto impl = std::make_shared<Impl>();
  impl->type = type;
  impl->N = N;
  impl->K = K;
  const memory::desc packed_desc = allocate_packed(*impl);
  // About 8 MB of float32 per block: converted from the file and packed while
  // it is in the last-level cache.
  const int64_t alignment = row_block_of(packed_desc);
  int64_t block_rows = N;
  if (alignment > 0) {
    const int64_t wanted = std::max<int64_t>(1, (int64_t{1} << 21) / std::max<int64_t>(1, K));
    block_rows = std::min(N, (wanted + alignment - 1) / alignment * alignment);
  }
  auto &ctx = context();
  int64_t next = 0;
  source(block_rows, [&](int64_t first, int64_t rows, const float *w) {
    if (first != next || rows != std::min(block_rows, N - first) || rows <= 0)
      throw std::logic_error("PackedWeights::from_row_blocks: rows out of order");
    memory part(plain_weights_desc(type, K, rows), ctx.engine, const_cast<float *>(w));
    memory into(packed_desc.submemory_desc({K, rows}, {0, first}), ctx.engine,
                impl->packed.get_data_handle());
    const dnnl::reorder::primitive_desc reorder(part, into);
    if (first == 0)
      impl->packing = reorder.impl_info_str();
    dnnl::reorder(reorder).execute(ctx.stream, part, into);
    ctx.stream.wait();
    next = first + rows;
  });
  if (next != N)
    throw std::logic_error("PackedWeights::from_row_blocks: " + std::to_string(N - next) +
                           " rows never given");
  PackedWeights packed;
  packed.impl_ = std::move(impl);
  return packed;
}

PackedWeights::PackedWeights(const int8_t *q, const float *scales, int64_t N, int64_t K) {
  auto impl = std::make_shared<Impl>();
  impl->type = ComputeType::int8;
  impl->N = N;
  impl->K = K;
  impl->scales.assign(scales, scales + N);
  impl->weight_levels = int8_kernels().weight_levels;
  if (impl->weight_levels == kInt8Levels) {
    pack_int8(*impl, q); // reordered straight from the caller's values
  } else {
    std::vector<int8_t> narrowed(q, q + N * K);
    narrow_int8_weights(narrowed.data(), impl->scales.data(), N, K, impl->weight_levels);
    pack_int8(*impl, narrowed.data());
  }
  impl_ = std::move(impl);
}

ComputeType PackedWeights::type() const { return impl_->type; }
int64_t PackedWeights::outputs() const { return impl_->N; }
int64_t PackedWeights::inputs() const { return impl_->K; }
size_t PackedWeights::bytes() const {
  return impl_->packed.get_desc().get_size() + impl_->scales.size() * sizeof(float) +
         impl_->shift_compensation.size() * sizeof(int32_t);
}
const std::vector<float> &PackedWeights::scales() const { return impl_->scales; }
int PackedWeights::weight_levels() const { return impl_->weight_levels; }

void linear(const float *x, int64_t ldx, const PackedWeights &w, const float *bias, float *y,
            int64_t ldy, int64_t M, Activation act, bool accumulate) {
  if (M == 0)
    return;
  if (accumulate && act != Activation::none)
    throw std::logic_error("ops::linear: accumulate with an activation is not supported");
  const PackedWeights::Impl &impl = w.impl();
  const bool int8 = impl.type == ComputeType::int8;
  const bool has_bias = bias != nullptr;
  const Shape s = shape_of(w, M, ldx, ldy, has_bias, act, accumulate);
  const PrimitiveKey key{static_cast<int64_t>(s.type),
                         M,
                         s.K,
                         s.N,
                         s.ldx,
                         s.ldy,
                         s.has_bias,
                         static_cast<int64_t>(s.act),
                         s.accumulate,
                         s.convolution};
  auto &p = primitive_cache().get(key, [&] { return make_primitive(s, impl.packed.get_desc()); });
  p.weights.set_data_handle(impl.packed.get_data_handle());
  auto &ctx = context();
  Scratch &scratch = scratch_buffers();
  if (!int8) {
    if (impl.type == ComputeType::bfloat16) {
      grow(scratch.bfloat16, M * impl.K);
      to_bfloat16_rows(x, M, impl.K, ldx, scratch.bfloat16.data());
      p.src.set_data_handle(scratch.bfloat16.data());
    } else {
      p.src.set_data_handle(const_cast<float *>(x));
    }
    p.dst.set_data_handle(y);
    if (has_bias)
      p.bias.set_data_handle(const_cast<float *>(bias));
    p.primitive.execute(ctx.stream, p.args);
    ctx.stream.wait();
    return;
  }
  grow(scratch.quantized, M * impl.K);
  grow(scratch.row_scales, M);
  // A dense output without a residual to add takes the product directly and
  // is finished in place: no scratch as large as the logits or the encoder's
  // FFN activations, and one pass less over them.
  const bool in_place = !accumulate && ldy == impl.N;
  void *destination = y;
  if (!in_place) {
    grow(scratch.sums, M * impl.N);
    destination = scratch.sums.data();
  }
  const Int8Product product{scratch.sums.data(), impl.shift_compensation.data(),
                            impl.scales.data()};
  quantize_rows(x, M, impl.K, ldx, scratch.quantized.data(), scratch.row_scales.data());
  shift_to_unsigned(scratch.quantized.data(), M * impl.K);
  p.src.set_data_handle(scratch.quantized.data());
  p.dst.set_data_handle(destination);
  p.primitive.execute(ctx.stream, p.args);
  ctx.stream.wait();
  finish_int8(product, in_place, scratch.row_scales.data(), bias, y, M, impl.N, ldy, act,
              accumulate);
}

namespace {

// The offset, in elements, that index i of dimension `dim` adds to an
// element's place in a blocked oneDNN layout: that place is offset0 plus one
// such term per dimension. A dimension's index splits into its outer block,
// times its stride, and one digit per inner block of that dimension, the last
// inner block the innermost (least significant digit, smallest stride), as in
// oneDNN's memory_desc_wrapper::off_v.
int64_t blocked_offset(const dnnl_memory_desc_t &md, int dim, int64_t i) {
  const auto &b = md.format_desc.blocking;
  int64_t blocked = 1;
  for (int j = 0; j < b.inner_nblks; ++j)
    if (b.inner_idxs[j] == dim)
      blocked *= b.inner_blks[j];
  int64_t offset = (i / blocked) * b.strides[dim];
  int64_t rest = i % blocked, inner_stride = 1;
  for (int j = b.inner_nblks - 1; j >= 0; --j) {
    if (b.inner_idxs[j] == dim) {
      offset += (rest % b.inner_blks[j]) * inner_stride;
      rest /= b.inner_blks[j];
    }
    inner_stride *= b.inner_blks[j];
  }
  return offset;
}

} // namespace

bool PackedWeights::rows_readable() const {
  const Impl &impl = *impl_;
  return impl.packed.get_desc().data.format_kind == dnnl_blocked && !impl.convolution &&
         (impl.type != ComputeType::int8 || impl.weight_levels == kInt8Levels);
}

void PackedWeights::read_row(int64_t n, float *out) const {
  const Impl &impl = *impl_;
  if (!rows_readable())
    throw std::logic_error("PackedWeights::read_row: these weights hold other values than the "
                           "matrix they were packed from");
  if (n < 0 || n >= impl.N)
    throw std::logic_error("PackedWeights::read_row: row " + std::to_string(n) + " outside the " +
                           std::to_string(impl.N) + " rows");
  // The matmul's weights are the K x N matrix: dimension 0 is k, 1 is n.
  const memory::desc desc = impl.packed.get_desc();
  std::call_once(impl.row_offsets_made, [&] {
    impl.k_offsets.resize(static_cast<size_t>(impl.K));
    for (int64_t k = 0; k < impl.K; ++k)
      impl.k_offsets[static_cast<size_t>(k)] = desc.data.offset0 + blocked_offset(desc.data, 0, k);
  });
  const int64_t column = blocked_offset(desc.data, 1, n);
  const int64_t *at = impl.k_offsets.data();
  const void *data = impl.packed.get_data_handle();
  switch (impl.type) {
  case ComputeType::float32: {
    const auto *w = static_cast<const float *>(data) + column;
    for (int64_t k = 0; k < impl.K; ++k)
      out[k] = w[at[k]];
    break;
  }
  case ComputeType::bfloat16: {
    const auto *w = static_cast<const uint16_t *>(data) + column;
    for (int64_t k = 0; k < impl.K; ++k)
      out[k] = from_bfloat16(w[at[k]]);
    break;
  }
  case ComputeType::int8: {
    const auto *w = static_cast<const int8_t *>(data) + column;
    const float scale = impl.scales[static_cast<size_t>(n)];
    for (int64_t k = 0; k < impl.K; ++k)
      out[k] = static_cast<float>(w[at[k]]) * scale;
    break;
  }
  }
}

std::string packing_implementation(const PackedWeights &w) { return w.impl().packing; }

std::string linear_implementation(const PackedWeights &w, int64_t M, bool has_bias, Activation act,
                                  bool accumulate) {
  const Shape s = shape_of(w, M, w.inputs(), w.outputs(), has_bias, act, accumulate);
  return make_primitive_desc(s, w.impl().packed.get_desc()).impl_info_str();
}

} // namespace heed::ops
