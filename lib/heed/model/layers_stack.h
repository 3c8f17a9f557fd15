// One encoder layer and one decoder layer of a post-norm Marian transformer.
#pragma once

#include "heed/core/workspace.h"
#include "heed/layers/attention.h"
#include "heed/layers/feed_forward.h"
#include "heed/layers/layer_norm.h"

namespace heed {

struct EncoderLayer {
  SelfAttention self_attn;
  LayerNorm self_attn_norm;
  FeedForward ffn;
  LayerNorm final_norm;

  void forward(float *h, int64_t batch, int64_t length, const float *mask, Workspace &ws,
               AttentionObserver *observer = nullptr) const {
    const int64_t rows = batch * length;
    self_attn.forward(h, batch, length, mask, ws, observer);
    self_attn_norm.apply(h, rows);
    ffn.forward(h, rows, ws);
    final_norm.apply(h, rows);
  }
};

struct DecoderLayer {
  SelfAttention self_attn;
  LayerNorm self_attn_norm;
  CrossAttention cross_attn;
  LayerNorm cross_attn_norm;
  FeedForward ffn;
  LayerNorm final_norm;
};

} // namespace heed
