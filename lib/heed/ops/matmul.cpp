#include "heed/ops/matmul.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <stdexcept>
#include <unordered_map>

#include "heed/ops/context.h"
#include "heed/ops/post_ops.h"
#include "heed/ops/primitive_cache.h"

namespace heed::ops {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// Memory objects are handles: rebinding their data pointer updates `args` too.
struct LinearPrimitive {
  dnnl::matmul matmul;
  memory src, weights, bias, dst;
  std::unordered_map<int, memory> args;
};

struct BatchedPrimitive {
  dnnl::matmul matmul;
  memory a, b, c, mask;
  std::unordered_map<int, memory> args;
};

PrimitiveCache<LinearPrimitive> &linear_cache() {
  static PrimitiveCache<LinearPrimitive> cache;
  return cache;
}

PrimitiveCache<BatchedPrimitive> &batched_cache() {
  static PrimitiveCache<BatchedPrimitive> cache;
  return cache;
}

LinearPrimitive make_linear(int64_t ldx, bool has_bias, int64_t ldy, int64_t M, int64_t K,
                            int64_t N, Activation act, bool accumulate) {
  auto &ctx = context();
  memory::desc src_md({M, K}, dt::f32, memory::dims{ldx, 1});
  // W is [N,K] row-major: seen as the K x N weights matrix it has strides (1, K).
  memory::desc w_md({K, N}, dt::f32, memory::dims{1, K});
  memory::desc dst_md({M, N}, dt::f32, memory::dims{ldy, 1});
  memory::desc bias_md({1, N}, dt::f32, tag::ab);

  dnnl::post_ops ops;
  if (accumulate)
    ops.append_sum(1.f);
  append_activation(ops, act);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);

  auto desc = has_bias ? dnnl::matmul::desc(src_md, w_md, bias_md, dst_md)
                       : dnnl::matmul::desc(src_md, w_md, dst_md);
  dnnl::matmul::primitive_desc pd(desc, attr, ctx.engine);
  LinearPrimitive p;
  p.matmul = dnnl::matmul(pd);
  p.src = memory(src_md, ctx.engine, DNNL_MEMORY_NONE);
  p.weights = memory(w_md, ctx.engine, DNNL_MEMORY_NONE);
  p.dst = memory(dst_md, ctx.engine, DNNL_MEMORY_NONE);
  p.args = {{DNNL_ARG_SRC, p.src}, {DNNL_ARG_WEIGHTS, p.weights}, {DNNL_ARG_DST, p.dst}};
  if (has_bias) {
    p.bias = memory(bias_md, ctx.engine, DNNL_MEMORY_NONE);
    p.args.emplace(DNNL_ARG_BIAS, p.bias);
  }
  return p;
}

memory::desc view_desc(const View4 &v) {
  return memory::desc(memory::dims(v.dims.begin(), v.dims.end()), dt::f32,
                      memory::dims(v.strides.begin(), v.strides.end()));
}

BatchedPrimitive make_batched(const View4 &av, const View4 &bv, const View4 &cv, bool has_mask) {
  auto &ctx = context();
  auto a_md = view_desc(av), b_md = view_desc(bv), c_md = view_desc(cv);
  memory::desc mask_md({cv.dims[0], 1, 1, cv.dims[3]}, dt::f32, tag::abcd);
  dnnl::primitive_attr attr;
  if (has_mask) {
    dnnl::post_ops ops;
    ops.append_binary(dnnl::algorithm::binary_add, mask_md);
    attr.set_post_ops(ops);
  }
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), attr, ctx.engine);
  BatchedPrimitive p;
  p.matmul = dnnl::matmul(pd);
  p.a = memory(a_md, ctx.engine, DNNL_MEMORY_NONE);
  p.b = memory(b_md, ctx.engine, DNNL_MEMORY_NONE);
  p.c = memory(c_md, ctx.engine, DNNL_MEMORY_NONE);
  p.args = {{DNNL_ARG_SRC, p.a}, {DNNL_ARG_WEIGHTS, p.b}, {DNNL_ARG_DST, p.c}};
  if (has_mask) {
    p.mask = memory(mask_md, ctx.engine, DNNL_MEMORY_NONE);
    p.args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, p.mask);
  }
  return p;
}

} // namespace

void linear(const float *x, int64_t ldx, const float *w, const float *bias, float *y, int64_t ldy,
            int64_t M, int64_t K, int64_t N, Activation act, bool accumulate) {
  if (M == 0)
    return;
  if (accumulate && act != Activation::none)
    throw std::logic_error("ops::linear: accumulate with an activation is not supported");
  const bool has_bias = bias != nullptr;
  PrimitiveKey key{ldx, has_bias, ldy, M, K, N, static_cast<int64_t>(act), accumulate};
  auto &p = linear_cache().get(
      key, [&] { return make_linear(ldx, has_bias, ldy, M, K, N, act, accumulate); });
  p.src.set_data_handle(const_cast<float *>(x));
  p.weights.set_data_handle(const_cast<float *>(w));
  p.dst.set_data_handle(y);
  if (has_bias)
    p.bias.set_data_handle(const_cast<float *>(bias));
  auto &ctx = context();
  p.matmul.execute(ctx.stream, p.args);
  ctx.stream.wait();
}

void batched_matmul(const float *a, const View4 &av, const float *b, const View4 &bv, float *c,
                    const View4 &cv, const float *mask) {
  for (int64_t d : cv.dims)
    if (d == 0)
      return;
  const bool has_mask = mask != nullptr;
  PrimitiveKey key;
  for (const View4 *v : {&av, &bv, &cv})
    for (size_t i = 0; i < 4; ++i) {
      key.push_back(v->dims[i]);
      key.push_back(v->strides[i]);
    }
  key.push_back(has_mask);
  auto &p = batched_cache().get(key, [&] { return make_batched(av, bv, cv, has_mask); });
  p.a.set_data_handle(const_cast<float *>(a));
  p.b.set_data_handle(const_cast<float *>(b));
  p.c.set_data_handle(c);
  if (has_mask)
    p.mask.set_data_handle(const_cast<float *>(mask));
  auto &ctx = context();
  p.matmul.execute(ctx.stream, p.args);
  ctx.stream.wait();
}

size_t cached_primitive_count() { return linear_cache().size() + batched_cache().size(); }

} // namespace heed::ops
