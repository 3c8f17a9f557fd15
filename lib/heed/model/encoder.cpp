#include "heed/model/encoder.h"

namespace heed {

void Encoder::forward(const int64_t *ids, const int64_t *lengths, int64_t batch, int64_t length,
                      Tensor &out, Tensor &mask, Workspace &ws,
                      const std::function<AttentionObserver *(size_t)> &observer) const {
  const int64_t d = embeddings.d_model();
  out.resize({batch * length, d});
  mask.resize({batch, length});
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < length; ++t)
      mask[b * length + t] = t < lengths[b] ? 0.f : kMaskedScore;
  embeddings.embed_sequence(ids, batch, length, out.data());
  for (size_t l = 0; l < layers.size(); ++l)
    layers[l].forward(out.data(), batch, length, mask.data(), ws, observer ? observer(l) : nullptr);
}

} // namespace heed
