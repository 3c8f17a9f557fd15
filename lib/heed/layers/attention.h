// Multi-head scaled dot-product attention on oneDNN:
//   softmax(Q·Kᵀ/√d_head + mask)·V per head, heads concatenated, projected by Wᴼ.
// Projections live in row-major [rows, d] buffers; per-head matrices are strided
// views into them, so no transpose or head split is ever copied. The 1/√d_head
// scale is folded into the query projection at load time, as HF multiplies the
// projected queries by it.
//
// The decoder's key/value caches and projected encoder memory are float32, or
// bfloat16 under bfloat16 compute and under int8 where the processor has
// bfloat16 kernels (halving the largest buffers of a beam search: see
// Decoder::cache_type); then the queries and the attention probabilities are rounded to
// bfloat16 for the two products, which accumulate in float32 (oneDNN 2.6
// multiplies bfloat16 only by bfloat16), and the scores, softmax and context
// stay float32. The encoder's self-attention is always float32.
#pragma once

#include <cstdint>

#include "heed/core/element_type.h"
#include "heed/core/workspace.h"
#include "heed/layers/linear.h"
#include "heed/ops/batched_matmul.h"

namespace heed {

// Receives attention probabilities right after the softmax, laid out
// [batch, heads, queries, keys] as described by `view` (used by attention dumps).
struct AttentionObserver {
  virtual ~AttentionObserver() = default;
  virtual void observe(const float *probabilities, const ops::View4 &view) = 0;
};

// scores = q·kᵀ (+ mask [batch, keys]); softmax over keys; out = scores·v.
// `k_t` is the key matrix viewed as [batch, heads, head_dim, keys]; keys and
// values are float32 or both bfloat16 (their views' type). For bfloat16, q and
// then the probabilities are rounded into `rounded`, which holds
// rounded_elements() values; it may be null for float32.
void attend(const float *q, const ops::View4 &q_view, const void *k_t, const ops::View4 &k_view,
            const void *v, const ops::View4 &v_view, float *out, const ops::View4 &out_view,
            const float *mask, float *scores, uint16_t *rounded,
            AttentionObserver *observer = nullptr);

// The bfloat16 elements attend() rounds q [batch, heads, queries, head_dim]
// and the probabilities [batch, heads, queries, keys] into.
int64_t rounded_elements(const ops::View4 &q_view, int64_t keys);

// Self-attention with fused Q/K/V projection (weight [3d, d]).
struct SelfAttention {
  Linear qkv;
  Linear out;
  int64_t heads = 1;

  int64_t d_model() const { return out.out_features(); }

  // Encoder: h[batch * length, d] += Wᴼ·attention(h) with padding mask [batch, length].
  void forward(float *h, int64_t batch, int64_t length, const float *mask, Workspace &ws,
               AttentionObserver *observer = nullptr) const;

  // Decoder step: h[entries, d] are the newest positions; their keys and values
  // are appended at `position` of the caches [entries, capacity, d] (of
  // `cache_type`), and each query attends to positions 0..position (causal by
  // construction).
  void forward_step(float *h, int64_t entries, void *key_cache, void *value_cache,
                    ElementType cache_type, int64_t capacity, int64_t position, Workspace &ws,
                    AttentionObserver *observer = nullptr) const;
};

// Encoder-decoder attention; keys and values of the encoder output are
// projected once per sentence into [sentences, source_length, 2d].
struct CrossAttention {
  Linear q;
  Linear kv; // fused [2d, d]
  Linear out;
  int64_t heads = 1;

  int64_t d_model() const { return out.out_features(); }

  // encoder_out [rows, d] -> memory [rows, 2d] of `type`; bfloat16 is
  // projected into `scratch` ([rows, 2d] float32) first.
  void project_memory(const float *encoder_out, int64_t rows, void *memory, ElementType type,
                      float *scratch) const;

  // h[sentences * group, d] += Wᴼ·attention(h, memory); the `group` rows of a
  // sentence (its beams) share that sentence's memory (of `memory_type`) and
  // mask [sentences, source_length].
  void forward_step(float *h, int64_t sentences, int64_t group, const void *memory,
                    ElementType memory_type, int64_t source_length, const float *mask,
                    Workspace &ws, AttentionObserver *observer = nullptr) const;
};

} // namespace heed
