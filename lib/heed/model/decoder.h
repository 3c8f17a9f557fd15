// The Marian decoder, run one position at a time: embeddings, post-norm layers
// with cached self-attention and cross-attention, then the output projection
// onto the target vocabulary plus final_logits_bias.
#pragma once

#include <memory>
#include <vector>

#include "heed/core/tensor.h"
#include "heed/core/workspace.h"
#include "heed/layers/embeddings.h"
#include "heed/model/decoder_state.h"
#include "heed/model/layers_stack.h"

namespace heed {

// Receives the attention probabilities of each decoder layer during a step.
struct DecoderObserver {
  virtual ~DecoderObserver() = default;
  // Brackets each step; `entries` rows are decoded at `position`.
  virtual void step_begins(int64_t entries, int64_t position) {}
  virtual void step_ends() {}
  virtual AttentionObserver *self_attention(size_t layer) { return nullptr; }
  virtual AttentionObserver *cross_attention(size_t layer) { return nullptr; }
};

class Decoder {
public:
  Embeddings embeddings;
  std::vector<DecoderLayer> layers;
  // Hidden states to logits: lm_head (the target embeddings when tied, packed
  // separately from the lookup table) and final_logits_bias.
  Linear output_projection; // [target_vocab, d]

  int64_t vocab_size() const { return output_projection.out_features(); }
  int64_t d_model() const { return embeddings.d_model(); }
  // The element type of a state's memory and caches: bfloat16 where the
  // layers compute in bfloat16 (which rounds every product's operands to it
  // anyway), and under int8 where the processor has bfloat16 kernels (int8 is
  // an approximation already; at batch 32 beam 4 float32 caches were most of
  // an int8 run's memory: README, "Memory"); else float32, so float32 stays
  // the reference's arithmetic and int8 elsewhere keeps what it computed.
  ElementType cache_type() const;

  // Prepares `state` for `sentences` sentences of `group` hypotheses each,
  // projecting the encoder output [sentences * source_length, d] once per layer.
  void start(DecoderState &state, const Tensor &encoder_out, const Tensor &mask, int64_t sentences,
             int64_t source_length, int64_t group, int64_t capacity) const;

  // Feeds one token per entry at position state.position and writes the raw
  // logits [entries, vocab] into `logits`; advances the position.
  void step(DecoderState &state, const int64_t *tokens, float *logits, Workspace &ws,
            DecoderObserver *observer = nullptr) const;
};

} // namespace heed
