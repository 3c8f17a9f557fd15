#include "heed/ops/packed_weights.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "heed/core/error.h"
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
  dnnl::memory packed; // owns the reordered weights (and int8 compensation)
  std::vector<float> scales;
  int weight_levels = 0; // int8: largest |quantized weight|
};

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// The blocked weight layout oneDNN's matmul picks depends on K, N and the data
// type, not on the number of rows, so packing against one row count serves all.
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

struct Shape {
  ComputeType type;
  int64_t M, K, N, ldx, ldy;
  bool has_bias;
  Activation act;
  bool accumulate;
};

// float32: y = act(x·W + b) with the bias in the matmul, or y += x·W + b.
// bfloat16: the same with x converted to a dense bfloat16 copy (oneDNN 2.6
// multiplies bfloat16 by bfloat16 only), accumulating and writing float32.
// int8: a dense product scaled per column by the weight scales (a binary
// post-op: oneDNN 2.6 runs its VNNI kernels neither with per-row binary
// post-ops nor with output scales given at run time); the per-row activation
// scales, bias, residual and activation follow in finish_int8().
dnnl::matmul::primitive_desc make_primitive_desc(const Shape &s, const memory::desc &weights) {
  auto &ctx = context();
  const bool int8 = s.type == ComputeType::int8;
  memory::desc src = s.type == ComputeType::float32
                         ? memory::desc({s.M, s.K}, dt::f32, memory::dims{s.ldx, 1})
                         : memory::desc({s.M, s.K}, weight_type(s.type), tag::ab);
  memory::desc dst({s.M, s.N}, dt::f32, memory::dims{s.ldy, 1});
  memory::desc row({1, s.N}, dt::f32, tag::ab);
  dnnl::post_ops ops;
  if (int8) {
    ops.append_binary(dnnl::algorithm::binary_mul, row);
  } else {
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
  dnnl::matmul matmul;
  memory src, weights, dst, bias, column_scales;
  std::unordered_map<int, memory> args;
};

PackedPrimitive make_primitive(const Shape &s, const memory::desc &weights) {
  auto &ctx = context();
  const auto pd = make_primitive_desc(s, weights);
  PackedPrimitive p;
  p.matmul = dnnl::matmul(pd);
  p.src = memory(pd.src_desc(), ctx.engine, DNNL_MEMORY_NONE);
  p.weights = memory(pd.weights_desc(), ctx.engine, DNNL_MEMORY_NONE);
  p.dst = memory(pd.dst_desc(), ctx.engine, DNNL_MEMORY_NONE);
  p.args = {{DNNL_ARG_SRC, p.src}, {DNNL_ARG_WEIGHTS, p.weights}, {DNNL_ARG_DST, p.dst}};
  const memory::desc row({1, s.N}, dt::f32, tag::ab);
  if (s.type == ComputeType::int8) {
    p.column_scales = memory(row, ctx.engine, DNNL_MEMORY_NONE);
    p.args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, p.column_scales);
  } else if (s.has_bias) {
    p.bias = memory(row, ctx.engine, DNNL_MEMORY_NONE);
    p.args.emplace(DNNL_ARG_BIAS, p.bias);
  }
  return p;
}

PrimitiveCache<PackedPrimitive> &primitive_cache() {
  static PrimitiveCache<PackedPrimitive> cache;
  return cache;
}

// Per-thread buffers reused across calls: quantized (int8) or converted
// (bfloat16) activations, their row scales and the scaled product. They only
// grow, so a warm decoding loop allocates nothing.
struct Scratch {
  std::vector<int8_t> quantized;
  std::vector<uint16_t> bfloat16;
  std::vector<float> row_scales;
  std::vector<float> product;
};
Scratch &scratch_buffers() {
  thread_local Scratch scratch;
  return scratch;
}

template <typename T> void grow(std::vector<T> &v, int64_t n) {
  if (v.size() < static_cast<size_t>(n))
    v.resize(static_cast<size_t>(n));
}

// The int8 matmul itself always writes a dense product without bias or
// activation (see make_primitive_desc); int8 and bfloat16 read a dense copy
// of the activations.
Shape shape_of(const PackedWeights &w, int64_t M, int64_t ldx, int64_t ldy, bool has_bias,
               Activation act, bool accumulate) {
  if (w.type() == ComputeType::int8)
    return Shape{w.type(),    M,     w.inputs(),       w.outputs(), w.inputs(),
                 w.outputs(), false, Activation::none, false};
  if (w.type() == ComputeType::bfloat16)
    ldx = w.inputs();
  return Shape{w.type(), M, w.inputs(), w.outputs(), ldx, ldy, has_bias, act, accumulate};
}

struct EltwisePrimitive {
  dnnl::eltwise_forward eltwise;
  memory data;
};

// act applied in place to y[M,N] (row stride ldy).
void activate_in_place(float *y, int64_t M, int64_t N, int64_t ldy, Activation act) {
  static PrimitiveCache<EltwisePrimitive> cache;
  auto &ctx = context();
  const PrimitiveKey key{M, N, ldy, static_cast<int64_t>(act)};
  auto &p = cache.get(key, [&] {
    memory::desc md({M, N}, dt::f32, memory::dims{ldy, 1});
    dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference, eltwise_algorithm(act), md,
                                     eltwise_alpha(act), 0.f);
    EltwisePrimitive e;
    e.eltwise = dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(desc, ctx.engine));
    e.data = memory(md, ctx.engine, DNNL_MEMORY_NONE);
    return e;
  });
  p.data.set_data_handle(y);
  p.eltwise.execute(ctx.stream, {{DNNL_ARG_SRC, p.data}, {DNNL_ARG_DST, p.data}});
  ctx.stream.wait();
}

// y = act(product · row scale + bias), or y += product · row scale + bias.
// product may be y itself (dense, without accumulation).
void finish_int8(const float *product, const float *row_scales, const float *bias, float *y,
                 int64_t M, int64_t N, int64_t ldy, Activation act, bool accumulate) {
  const bool in_place = product == y;
  const bool parallel = M * N >= (int64_t{1} << 16);
#pragma omp parallel for if (parallel) schedule(static)
  for (int64_t m = 0; m < M; ++m) {
    const float s = row_scales[m];
    const float *p = product + m * N;
    float *out = y + m * ldy;
    if (in_place) {
      // One pointer, so that the loops vectorize without an overlap check.
      if (bias)
        for (int64_t n = 0; n < N; ++n)
          out[n] = out[n] * s + bias[n];
      else
        for (int64_t n = 0; n < N; ++n)
          out[n] *= s;
    } else if (accumulate) {
      if (bias)
        for (int64_t n = 0; n < N; ++n)
          out[n] += p[n] * s + bias[n];
      else
        for (int64_t n = 0; n < N; ++n)
          out[n] += p[n] * s;
    } else {
      if (bias)
        for (int64_t n = 0; n < N; ++n)
          out[n] = p[n] * s + bias[n];
      else
        for (int64_t n = 0; n < N; ++n)
          out[n] = p[n] * s;
    }
  }
  if (act != Activation::none)
    activate_in_place(y, M, N, ldy, act);
}

} // namespace

void quantize_int8_weights(const float *w, int64_t N, int64_t K, int levels, int8_t *q,
                           float *scales) {
  if (levels < 1 || levels > kInt8Levels)
    throw std::logic_error("quantize_int8_weights: levels must be in [1, 127]");
  quantize_rows(w, N, K, K, q, scales, kInt8Levels);
  if (levels == kInt8Levels)
    return;
    // Narrowed from the 8-bit weights, exactly as a model converted to int8 is:
    // its 8-bit values are read back as q x scale and quantized again. (On the
    // shipped model, narrowing and quantizing straight to 7 bits score alike:
    // see README.md.)
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

PackedWeights::PackedWeights(const float *w, int64_t N, int64_t K, ComputeType type) {
  auto impl = std::make_shared<Impl>();
  impl->type = type;
  impl->N = N;
  impl->K = K;
  std::vector<int8_t> quantized;
  const void *plain = w;
  if (type == ComputeType::int8) {
    quantized.resize(static_cast<size_t>(N * K));
    impl->scales.resize(static_cast<size_t>(N));
    impl->weight_levels = int8_kernels().weight_levels;
    quantize_int8_weights(w, N, K, impl->weight_levels, quantized.data(), impl->scales.data());
    plain = quantized.data();
  }
  auto &ctx = context();
  const memory::desc any({K, N}, weight_type(type), tag::any);
  const Shape reference{type, kPackingRows, K, N, K, N, true, Activation::none, false};
  const memory::desc packed_desc = make_primitive_desc(reference, any).weights_desc();
  impl->packed = memory(packed_desc, ctx.engine);
  memory source(plain_weights_desc(type, K, N), ctx.engine, const_cast<void *>(plain));
  dnnl::reorder(source, impl->packed).execute(ctx.stream, source, impl->packed);
  ctx.stream.wait();
  impl_ = std::move(impl);
}

ComputeType PackedWeights::type() const { return impl_->type; }
int64_t PackedWeights::outputs() const { return impl_->N; }
int64_t PackedWeights::inputs() const { return impl_->K; }
size_t PackedWeights::bytes() const {
  return impl_->packed.get_desc().get_size() + impl_->scales.size() * sizeof(float);
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
  const PrimitiveKey key{
      static_cast<int64_t>(s.type), M,           s.K, s.N, s.ldx, s.ldy, s.has_bias,
      static_cast<int64_t>(s.act),  s.accumulate};
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
    p.matmul.execute(ctx.stream, p.args);
    ctx.stream.wait();
    return;
  }
  grow(scratch.quantized, M * impl.K);
  grow(scratch.row_scales, M);
  // A dense output without a residual to add takes the product directly and
  // is finished in place: no scratch as large as the logits or the encoder's
  // FFN activations, and one pass less over them.
  const bool in_place = !accumulate && ldy == impl.N;
  if (!in_place)
    grow(scratch.product, M * impl.N);
  float *product = in_place ? y : scratch.product.data();
  quantize_rows(x, M, impl.K, ldx, scratch.quantized.data(), scratch.row_scales.data());
  p.src.set_data_handle(scratch.quantized.data());
  p.column_scales.set_data_handle(const_cast<float *>(impl.scales.data()));
  p.dst.set_data_handle(product);
  p.matmul.execute(ctx.stream, p.args);
  ctx.stream.wait();
  finish_int8(product, scratch.row_scales.data(), bias, y, M, impl.N, ldy, act, accumulate);
}

std::string linear_implementation(const PackedWeights &w, int64_t M, bool has_bias, Activation act,
                                  bool accumulate) {
  const Shape s = shape_of(w, M, w.inputs(), w.outputs(), has_bias, act, accumulate);
  return make_primitive_desc(s, w.impl().packed.get_desc()).impl_info_str();
}

} // namespace heed::ops
