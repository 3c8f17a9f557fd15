#include "heed/ops/batched_matmul.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <stdexcept>
#include <string>
#include <unordered_map>

#include "heed/ops/context.h"
#include "heed/ops/primitive_cache.h"

namespace heed::ops {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// Memory objects are handles: rebinding their data pointer updates `args` too.
struct BatchedPrimitive {
  dnnl::matmul matmul;
  memory a, b, c, mask;
  std::unordered_map<int, memory> args;
};

PrimitiveCache<BatchedPrimitive> &batched_cache() {
  thread_local PrimitiveCache<BatchedPrimitive> cache;
  return cache;
}

memory::desc view_desc(const View4 &v) {
  return memory::desc(memory::dims(v.dims.begin(), v.dims.end()),
                      v.type == ElementType::bfloat16 ? dt::bf16 : dt::f32,
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
  const std::string impl = pd.impl_info_str();
  if (av.type == ElementType::bfloat16 && impl.rfind("ref", 0) == 0)
    throw std::logic_error("batched_matmul: oneDNN offers only its reference kernel (" + impl +
                           ") for a bfloat16 product");
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

void batched_matmul(const void *a, const View4 &av, const void *b, const View4 &bv, float *c,
                    const View4 &cv, const float *mask) {
  if (av.type != bv.type || cv.type != ElementType::float32)
    throw std::logic_error("batched_matmul: operands of two types, or a product not in float32");
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
  key.push_back(static_cast<int64_t>(av.type));
  key.push_back(has_mask);
  // Below 2^18 multiply-adds one thread (on a 2-core Zen 4, a batch-1 step's
  // 8 heads x 1 query x 64 x 16 keys take 2.1 us on one, 7.6 on two; a beam
  // of 4: 8 x 4 x 64 x 64, 5.2 against 11.9). Alone, products up to 2^20 ran
  // as fast on one thread, but whole runs of 32 sentences greedy, 256 small
  // products per call, were 0.94x the time with 2^18 than with 2^20 (3 pairs),
  // and batch 1 beam 4 1.10x the time with 2^16 than with 2^18.
  const int64_t multiply_adds = cv.dims[0] * cv.dims[1] * cv.dims[2] * cv.dims[3] * av.dims[3];
  const bool serial = multiply_adds < (int64_t{1} << 18);
  auto &p = batched_cache().get(key, [&] {
    SerialScope scope(serial);
    return make_batched(av, bv, cv, has_mask);
  });
  p.a.set_data_handle(const_cast<void *>(a));
  p.b.set_data_handle(const_cast<void *>(b));
  p.c.set_data_handle(c);
  if (has_mask)
    p.mask.set_data_handle(const_cast<float *>(mask));
  auto &ctx = context();
  SerialScope scope(serial);
  p.matmul.execute(ctx.stream, p.args);
  ctx.stream.wait();
}

} // namespace heed::ops
