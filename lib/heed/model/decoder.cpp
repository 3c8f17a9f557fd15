#include "heed/model/decoder.h"

#include <cstring>
#include <stdexcept>

#include "heed/ops/cpu_isa.h"

namespace heed {

ElementType Decoder::cache_type() const {
  const ops::ComputeType type = output_projection.packed.type();
  const bool low = type == ops::ComputeType::bfloat16 ||
                   (type == ops::ComputeType::int8 && ops::has_bfloat16_kernels());
  return low ? ElementType::bfloat16 : ElementType::float32;
}

void Decoder::start(DecoderState &state, const Tensor &encoder_out, const Tensor &mask,
                    int64_t sentences, int64_t source_length, int64_t group,
                    int64_t capacity) const {
  const int64_t d = d_model();
  if (capacity > embeddings.positions.dim(0))
    throw std::logic_error("Decoder::start: capacity exceeds the position table");
  state.sentences = sentences;
  state.group = group;
  state.source_length = source_length;
  state.capacity = capacity;
  state.position = 0;
  state.d_model = d;
  state.cache_type = cache_type();
  state.mask.resize({sentences, source_length});
  std::memcpy(state.mask.data(), mask.data(), sizeof(float) * sentences * source_length);
  const size_t n = layers.size();
  state.memory.resize(n);
  state.keys.resize(n);
  state.values.resize(n);
  // bfloat16 memory is projected in float32 first, one layer at a time.
  Tensor projected;
  if (state.cache_type != ElementType::float32)
    projected.resize({sentences * source_length, 2 * d});
  for (size_t l = 0; l < n; ++l) {
    state.memory[l].reserve(static_cast<size_t>(sentences) * state.memory_row_bytes());
    layers[l].cross_attn.project_memory(encoder_out.data(), sentences * source_length,
                                        state.memory[l].data(), state.cache_type, projected.data());
    state.keys[l].reserve(static_cast<size_t>(sentences * group) * state.cache_row_bytes());
    state.values[l].reserve(static_cast<size_t>(sentences * group) * state.cache_row_bytes());
  }
}

void Decoder::step(DecoderState &state, const int64_t *tokens, float *logits, Workspace &ws,
                   DecoderObserver *observer) const {
  if (state.position >= state.capacity)
    throw std::logic_error("Decoder::step: the caches are full");
  const int64_t d = d_model(), entries = state.entries();
  if (observer != nullptr)
    observer->step_begins(entries, state.position);
  float *h = ws.get(Scratch::activations, entries * d);
  embeddings.embed_step(tokens, entries, state.position, h);
  for (size_t l = 0; l < layers.size(); ++l) {
    const DecoderLayer &layer = layers[l];
    layer.self_attn.forward_step(h, entries, state.keys[l].data(), state.values[l].data(),
                                 state.cache_type, state.capacity, state.position, ws,
                                 observer ? observer->self_attention(l) : nullptr);
    layer.self_attn_norm.apply(h, entries);
    layer.cross_attn.forward_step(h, state.sentences, state.group, state.memory[l].data(),
                                  state.cache_type, state.source_length, state.mask.data(), ws,
                                  observer ? observer->cross_attention(l) : nullptr);
    layer.cross_attn_norm.apply(h, entries);
    layer.ffn.forward(h, entries, ws);
    layer.final_norm.apply(h, entries);
  }
  output_projection.forward(h, d, entries, logits, vocab_size());
  ++state.position;
  if (observer != nullptr)
    observer->step_ends();
}

} // namespace heed
