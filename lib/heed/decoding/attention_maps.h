// Attention weights of one translation hypothesis, as recorded during decoding
// (with beam search, the weights of that hypothesis at each step, followed
// through every beam reorder). Dumps and word alignments are made from these.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "heed/core/tensor.h"

namespace heed {

struct AttentionMap {
  // Label of each stored layer and head: its index ("0", "5") or the reduction
  // that produced it ("mean", "max").
  std::vector<std::string> layers;
  std::vector<std::string> heads;
  // [layers, heads, queries, keys], rows are probability distributions over keys.
  Tensor weights;

  int64_t queries() const { return weights.dim(2); }
  int64_t keys() const { return weights.dim(3); }
  const float *row(int64_t layer, int64_t head, int64_t query) const {
    return weights.data() + ((layer * weights.dim(1) + head) * weights.dim(2) + query) * keys();
  }
};

struct AttentionMaps {
  // Decoder-encoder attention: queries are the generated target tokens (EOS
  // included), keys the source tokens (EOS included).
  std::optional<AttentionMap> cross;
  // Encoder self-attention: source x source.
  std::optional<AttentionMap> encoder;
  // Decoder self-attention: queries are the generated target tokens, keys the
  // decoder inputs (start token, then the target tokens but the last).
  std::optional<AttentionMap> decoder;
};

} // namespace heed
