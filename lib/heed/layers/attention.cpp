#include "heed/layers/attention.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <stdexcept>

#include "heed/ops/bfloat16.h"
#include "heed/ops/softmax.h"

namespace heed {

using ops::View4;

int64_t rounded_elements(const View4 &q_view, int64_t keys) {
  const int64_t rows = q_view.dims[0] * q_view.dims[1] * q_view.dims[2];
  return rows * std::max(q_view.dims[3], keys);
}

void attend(const float *q, const View4 &q_view, const void *k_t, const View4 &k_view,
            const void *v, const View4 &v_view, float *out, const View4 &out_view,
            const float *mask, float *scores, uint16_t *rounded, AttentionObserver *observer) {
  const int64_t batch = q_view.dims[0], heads = q_view.dims[1], queries = q_view.dims[2];
  const int64_t keys = k_view.dims[3];
  const View4 scores_view{{batch, heads, queries, keys},
                          {heads * queries * keys, queries * keys, keys, 1}};
  if (k_view.type != v_view.type)
    throw std::logic_error("attend: keys and values of different types");
  const bool low = k_view.type == ElementType::bfloat16;
  if (low && rounded == nullptr)
    throw std::logic_error("attend: bfloat16 keys without a buffer to round into");
  if (low)
    ops::batched_matmul(rounded, ops::to_bfloat16_view(q, q_view, rounded), k_t, k_view, scores,
                        scores_view, mask);
  else
    ops::batched_matmul(q, q_view, k_t, k_view, scores, scores_view, mask);
  ops::softmax(scores, batch * heads * queries, keys, keys);
  if (observer != nullptr)
    observer->observe(scores, scores_view);
  if (low)
    ops::batched_matmul(rounded, ops::to_bfloat16_view(scores, scores_view, rounded), v, v_view,
                        out, out_view);
  else
    ops::batched_matmul(scores, scores_view, v, v_view, out, out_view);
}

void SelfAttention::forward(float *h, int64_t batch, int64_t length, const float *mask,
                            Workspace &ws, AttentionObserver *observer) const {
  const int64_t d = d_model(), dh = d / heads, rows = batch * length;
  float *proj = ws.get(Scratch::projections, rows * 3 * d);
  float *ctx = ws.get(Scratch::context, rows * d);
  float *scores = ws.get(Scratch::scores, batch * heads * length * length);
  qkv.forward(h, d, rows, proj, 3 * d);
  const View4 q_view{{batch, heads, length, dh}, {length * 3 * d, dh, 3 * d, 1}};
  const View4 k_view{{batch, heads, dh, length}, {length * 3 * d, dh, 1, 3 * d}};
  const View4 v_view{{batch, heads, length, dh}, {length * 3 * d, dh, 3 * d, 1}};
  const View4 out_view{{batch, heads, length, dh}, {length * d, dh, d, 1}};
  attend(proj, q_view, proj + d, k_view, proj + 2 * d, v_view, ctx, out_view, mask, scores, nullptr,
         observer);
  out.forward(ctx, d, rows, h, d, ops::Activation::none, /*accumulate=*/true);
}

void SelfAttention::forward_step(float *h, int64_t entries, void *key_cache, void *value_cache,
                                 ElementType cache_type, int64_t capacity, int64_t position,
                                 Workspace &ws, AttentionObserver *observer) const {
  const int64_t d = d_model(), dh = d / heads, keys = position + 1;
  float *proj = ws.get(Scratch::projections, entries * 3 * d);
  float *ctx = ws.get(Scratch::context, entries * d);
  float *scores = ws.get(Scratch::scores, entries * heads * keys);
  qkv.forward(h, d, entries, proj, 3 * d);
  const View4 q_view{{entries, heads, 1, dh}, {3 * d, dh, 3 * d, 1}};
  const View4 k_view{{entries, heads, dh, keys}, {capacity * d, dh, 1, d}, cache_type};
  const View4 v_view{{entries, heads, keys, dh}, {capacity * d, dh, d, 1}, cache_type};
  const View4 out_view{{entries, heads, 1, dh}, {d, dh, d, 1}};
  // This position's keys and values into the caches, as the caches' type.
  const bool low = cache_type == ElementType::bfloat16;
  const auto store = [&](const float *from, void *cache, int64_t at) {
    if (low)
      ops::to_bfloat16_rows(from, 1, d, d, static_cast<uint16_t *>(cache) + at);
    else
      std::memcpy(static_cast<float *>(cache) + at, from, sizeof(float) * d);
  };
  for (int64_t e = 0; e < entries; ++e) {
    const float *row = proj + e * 3 * d;
    const int64_t at = (e * capacity + position) * d;
    store(row + d, key_cache, at);
    store(row + 2 * d, value_cache, at);
  }
  uint16_t *rounded =
      low ? ws.get_16bit(Scratch::rounded, rounded_elements(q_view, keys)) : nullptr;
  attend(proj, q_view, key_cache, k_view, value_cache, v_view, ctx, out_view, nullptr, scores,
         rounded, observer);
  out.forward(ctx, d, entries, h, d, ops::Activation::none, /*accumulate=*/true);
}

void CrossAttention::project_memory(const float *encoder_out, int64_t rows, void *memory,
                                    ElementType type, float *scratch) const {
  const int64_t d = d_model();
  if (type == ElementType::float32) {
    kv.forward(encoder_out, d, rows, static_cast<float *>(memory), 2 * d);
    return;
  }
  kv.forward(encoder_out, d, rows, scratch, 2 * d);
  ops::to_bfloat16_rows(scratch, rows, 2 * d, 2 * d, static_cast<uint16_t *>(memory));
}

void CrossAttention::forward_step(float *h, int64_t sentences, int64_t group, const void *memory,
                                  ElementType memory_type, int64_t source_length, const float *mask,
                                  Workspace &ws, AttentionObserver *observer) const {
  const int64_t d = d_model(), dh = d / heads, entries = sentences * group;
  float *proj = ws.get(Scratch::projections, entries * d);
  float *ctx = ws.get(Scratch::context, entries * d);
  float *scores = ws.get(Scratch::scores, entries * heads * source_length);
  q.forward(h, d, entries, proj, d);
  // The beams of a sentence act as that sentence's query positions.
  const View4 q_view{{sentences, heads, group, dh}, {group * d, dh, d, 1}};
  const View4 k_view{
      {sentences, heads, dh, source_length}, {source_length * 2 * d, dh, 1, 2 * d}, memory_type};
  const View4 v_view{
      {sentences, heads, source_length, dh}, {source_length * 2 * d, dh, 2 * d, 1}, memory_type};
  const View4 out_view{{sentences, heads, group, dh}, {group * d, dh, d, 1}};
  // The values start d elements into each memory row.
  const void *values = static_cast<const std::byte *>(memory) + d * element_bytes(memory_type);
  uint16_t *rounded = memory_type == ElementType::bfloat16
                          ? ws.get_16bit(Scratch::rounded, rounded_elements(q_view, source_length))
                          : nullptr;
  attend(proj, q_view, memory, k_view, values, v_view, ctx, out_view, mask, scores, rounded,
         observer);
  out.forward(ctx, d, entries, h, d, ops::Activation::none, /*accumulate=*/true);
}

} // namespace heed
