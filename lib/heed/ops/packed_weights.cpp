#include "heed/ops/packed_weights.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "heed/ops/context.h"
#include "heed/ops/post_ops.h"
#include "heed/ops/primitive_cache.h"
#include "heed/ops/quantize.h"

namespace heed::ops {

struct PackedWeights::Impl {
  ComputeType type = ComputeType::float32;
  int64_t N = 0, K = 0;
  dnnl::memory packed; // owns the reordered weights (and int8 compensation)
  std::vector<float> scales;
};

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// The blocked weight layout oneDNN's matmul picks depends on K, N and the data
// type, not on the number of rows, so packing against one row count serves all.
constexpr int64_t kPackingRows = 32;

dt weight_type(ComputeType type) { return type == ComputeType::int8 ? dt::s8 : dt::f32; }

// A torch weight W[N,K] row-major is the K x N matrix with strides (1, K).
memory::desc plain_weights_desc(ComputeType type, int64_t K, int64_t N) {
  return memory::desc({K, N}, weight_type(type), memory::dims{1, K});
}

struct Shape {
  ComputeType type;
  int64_t M, K, N, ldx, ldy;
  bool has_bias;
  Activation act;
  bool accumulate;
};

// float32: y = act(x·W + b) with the bias in the matmul, or y += x·W + b.
// int8: the s32 product is scaled per column by (activation scale x weight
// scale) with a binary post-op, since oneDNN 2.6 only runs its VNNI kernels
// with output scales fixed at creation, and these change at every call.
dnnl::matmul::primitive_desc make_primitive_desc(const Shape &s, const memory::desc &weights) {
  auto &ctx = context();
  const bool int8 = s.type == ComputeType::int8;
  memory::desc src = int8 ? memory::desc({s.M, s.K}, dt::s8, tag::ab)
                          : memory::desc({s.M, s.K}, dt::f32, memory::dims{s.ldx, 1});
  memory::desc dst({s.M, s.N}, dt::f32, memory::dims{s.ldy, 1});
  memory::desc row({1, s.N}, dt::f32, tag::ab);
  dnnl::post_ops ops;
  if (int8) {
    ops.append_binary(dnnl::algorithm::binary_mul, row);
    if (s.has_bias)
      ops.append_binary(dnnl::algorithm::binary_add, row);
    append_activation(ops, s.act);
    if (s.accumulate)
      ops.append_sum(1.f);
  } else {
    if (s.accumulate)
      ops.append_sum(1.f);
    append_activation(ops, s.act);
  }
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  auto desc = !int8 && s.has_bias ? dnnl::matmul::desc(src, weights, row, dst)
                                  : dnnl::matmul::desc(src, weights, dst);
  return dnnl::matmul::primitive_desc(desc, attr, ctx.engine);
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
    if (s.has_bias) {
      p.bias = memory(row, ctx.engine, DNNL_MEMORY_NONE);
      p.args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(1) | DNNL_ARG_SRC_1, p.bias);
    }
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

// Per-thread buffers reused across calls: quantized activations and the
// per-column scales. They only grow, so a warm decoding loop allocates nothing.
struct Int8Scratch {
  std::vector<int8_t> quantized;
  std::vector<float> column_scales;
};
Int8Scratch &int8_scratch() {
  thread_local Int8Scratch scratch;
  return scratch;
}

Shape shape_of(const PackedWeights &w, int64_t M, int64_t ldx, int64_t ldy, bool has_bias,
               Activation act, bool accumulate) {
  return Shape{w.type(), M, w.inputs(), w.outputs(), ldx, ldy, has_bias, act, accumulate};
}

} // namespace

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
    quantize_rows(w, N, K, quantized.data(), impl->scales.data());
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

void linear(const float *x, int64_t ldx, const PackedWeights &w, const float *bias, float *y,
            int64_t ldy, int64_t M, Activation act, bool accumulate) {
  if (M == 0)
    return;
  if (accumulate && act != Activation::none)
    throw std::logic_error("ops::linear: accumulate with an activation is not supported");
  const PackedWeights::Impl &impl = w.impl();
  const bool int8 = impl.type == ComputeType::int8;
  const bool has_bias = bias != nullptr;
  const Shape s = shape_of(w, M, int8 ? impl.K : ldx, ldy, has_bias, act, accumulate);
  const PrimitiveKey key{static_cast<int64_t>(s.type), M,         s.K, s.N, s.ldx, s.ldy, has_bias,
                         static_cast<int64_t>(act),    accumulate};
  auto &p = primitive_cache().get(key, [&] { return make_primitive(s, impl.packed.get_desc()); });
  p.weights.set_data_handle(impl.packed.get_data_handle());
  p.dst.set_data_handle(y);
  if (has_bias)
    p.bias.set_data_handle(const_cast<float *>(bias));
  if (int8) {
    Int8Scratch &scratch = int8_scratch();
    if (scratch.quantized.size() < static_cast<size_t>(M * impl.K))
      scratch.quantized.resize(static_cast<size_t>(M * impl.K));
    if (scratch.column_scales.size() < static_cast<size_t>(impl.N))
      scratch.column_scales.resize(static_cast<size_t>(impl.N));
    const float x_scale = quantize_matrix(x, M, impl.K, ldx, scratch.quantized.data());
    for (int64_t n = 0; n < impl.N; ++n)
      scratch.column_scales[n] = x_scale * impl.scales[n];
    p.src.set_data_handle(scratch.quantized.data());
    p.column_scales.set_data_handle(scratch.column_scales.data());
  } else {
    p.src.set_data_handle(const_cast<float *>(x));
  }
  auto &ctx = context();
  p.matmul.execute(ctx.stream, p.args);
  ctx.stream.wait();
}

std::string linear_implementation(const PackedWeights &w, int64_t M, bool has_bias, Activation act,
                                  bool accumulate) {
  const Shape s = shape_of(w, M, w.inputs(), w.outputs(), has_bias, act, accumulate);
  return make_primitive_desc(s, w.impl().packed.get_desc()).impl_info_str();
}

} // namespace heed::ops
