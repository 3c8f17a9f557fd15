#include "heed/model/decoder_state.h"

#include <cstring>
#include <stdexcept>
#include <utility>

namespace heed {

void DecoderState::select(const std::vector<int64_t> &sentence_source,
                          const std::vector<int64_t> &entry_source) {
  const int64_t new_sentences = static_cast<int64_t>(sentence_source.size());
  if (static_cast<int64_t>(entry_source.size()) != new_sentences * group)
    throw std::logic_error("DecoderState::select: entry count does not match sentences");
  const int64_t d = d_model;

  // Per-sentence tensors: compact in place (indices ascend, so a row only moves
  // towards the front).
  if (new_sentences != sentences) {
    const int64_t row = source_length;
    for (int64_t j = 0; j < new_sentences; ++j) {
      const int64_t from = sentence_source[j];
      if (from == j)
        continue;
      std::memmove(mask.data() + j * row, mask.data() + from * row, sizeof(float) * row);
      for (auto &m : memory)
        std::memmove(m.data() + j * row * 2 * d, m.data() + from * row * 2 * d,
                     sizeof(float) * row * 2 * d);
    }
  }

  // Per-entry caches: gather the filled positions into the spare buffer.
  bool identity = new_sentences == sentences;
  for (int64_t i = 0; identity && i < static_cast<int64_t>(entry_source.size()); ++i)
    identity = entry_source[i] == i;
  if (!identity && position > 0) {
    const int64_t rows = static_cast<int64_t>(entry_source.size());
    for (auto *caches : {&keys, &values})
      for (auto &cache : *caches) {
        spare.reserve(cache.capacity());
        for (int64_t i = 0; i < rows; ++i)
          std::memcpy(spare.data() + i * capacity * d,
                      cache.data() + entry_source[i] * capacity * d, sizeof(float) * position * d);
        std::swap(cache, spare);
        cache.resize({rows, capacity, d});
      }
  }
  sentences = new_sentences;
}

} // namespace heed
