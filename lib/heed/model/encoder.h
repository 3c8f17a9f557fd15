// The Marian encoder: embeddings, then a stack of post-norm self-attention layers.
#pragma once

#include <functional>
#include <vector>

#include "heed/core/tensor.h"
#include "heed/core/workspace.h"
#include "heed/layers/embeddings.h"
#include "heed/model/layers_stack.h"

namespace heed {

// Additive attention mask value for padding, as HF uses: finfo(float32).min.
inline constexpr float kMaskedScore = -3.4028234663852886e38f;

class Encoder {
public:
  Embeddings embeddings;
  std::vector<EncoderLayer> layers;

  // ids [batch, length] right-padded; lengths[b] real tokens of row b.
  // Writes hidden states out [batch * length, d] and the padding mask
  // [batch, length] (0 for tokens, kMaskedScore for padding).
  // `observer(layer)`, when given, receives each layer's attention probabilities.
  void forward(const int64_t *ids, const int64_t *lengths, int64_t batch, int64_t length,
               Tensor &out, Tensor &mask, Workspace &ws,
               const std::function<AttentionObserver *(size_t)> &observer = {}) const;
};

} // namespace heed
