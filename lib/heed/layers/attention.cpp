#include "heed/layers/attention.h"

#include <cstring>

#include "heed/ops/softmax.h"

namespace heed {

using ops::View4;

void attend(const float *q, const View4 &q_view, const float *k_t, const View4 &k_view,
            const float *v, const View4 &v_view, float *out, const View4 &out_view,
            const float *mask, float *scores, AttentionObserver *observer) {
  const int64_t batch = q_view.dims[0], heads = q_view.dims[1], queries = q_view.dims[2];
  const int64_t keys = k_view.dims[3];
  const View4 scores_view{{batch, heads, queries, keys},
                          {heads * queries * keys, queries * keys, keys, 1}};
  ops::batched_matmul(q, q_view, k_t, k_view, scores, scores_view, mask);
  ops::softmax(scores, batch * heads * queries, keys, keys);
  if (observer != nullptr)
    observer->observe(scores, scores_view);
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
  attend(proj, q_view, proj + d, k_view, proj + 2 * d, v_view, ctx, out_view, mask, scores,
         observer);
  out.forward(ctx, d, rows, h, d, ops::Activation::none, /*accumulate=*/true);
}

void SelfAttention::forward_step(float *h, int64_t entries, float *key_cache, float *value_cache,
                                 int64_t capacity, int64_t position, Workspace &ws,
                                 AttentionObserver *observer) const {
  const int64_t d = d_model(), dh = d / heads, keys = position + 1;
  float *proj = ws.get(Scratch::projections, entries * 3 * d);
  float *ctx = ws.get(Scratch::context, entries * d);
  float *scores = ws.get(Scratch::scores, entries * heads * keys);
  qkv.forward(h, d, entries, proj, 3 * d);
  for (int64_t e = 0; e < entries; ++e) {
    const float *row = proj + e * 3 * d;
    std::memcpy(key_cache + (e * capacity + position) * d, row + d, sizeof(float) * d);
    std::memcpy(value_cache + (e * capacity + position) * d, row + 2 * d, sizeof(float) * d);
  }
  const View4 q_view{{entries, heads, 1, dh}, {3 * d, dh, 3 * d, 1}};
  const View4 k_view{{entries, heads, dh, keys}, {capacity * d, dh, 1, d}};
  const View4 v_view{{entries, heads, keys, dh}, {capacity * d, dh, d, 1}};
  const View4 out_view{{entries, heads, 1, dh}, {d, dh, d, 1}};
  attend(proj, q_view, key_cache, k_view, value_cache, v_view, ctx, out_view, nullptr, scores,
         observer);
  out.forward(ctx, d, entries, h, d, ops::Activation::none, /*accumulate=*/true);
}

void CrossAttention::project_memory(const float *encoder_out, int64_t rows, float *memory) const {
  const int64_t d = d_model();
  kv.forward(encoder_out, d, rows, memory, 2 * d);
}

void CrossAttention::forward_step(float *h, int64_t sentences, int64_t group, const float *memory,
                                  int64_t source_length, const float *mask, Workspace &ws,
                                  AttentionObserver *observer) const {
  const int64_t d = d_model(), dh = d / heads, entries = sentences * group;
  float *proj = ws.get(Scratch::projections, entries * d);
  float *ctx = ws.get(Scratch::context, entries * d);
  float *scores = ws.get(Scratch::scores, entries * heads * source_length);
  q.forward(h, d, entries, proj, d);
  // The beams of a sentence act as that sentence's query positions.
  const View4 q_view{{sentences, heads, group, dh}, {group * d, dh, d, 1}};
  const View4 k_view{{sentences, heads, dh, source_length}, {source_length * 2 * d, dh, 1, 2 * d}};
  const View4 v_view{{sentences, heads, source_length, dh}, {source_length * 2 * d, dh, 2 * d, 1}};
  const View4 out_view{{sentences, heads, group, dh}, {group * d, dh, d, 1}};
  attend(proj, q_view, memory, k_view, memory + d, v_view, ctx, out_view, mask, scores, observer);
  out.forward(ctx, d, entries, h, d, ops::Activation::none, /*accumulate=*/true);
}

} // namespace heed
