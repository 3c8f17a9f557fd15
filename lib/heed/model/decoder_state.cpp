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

  // Per-entry caches, gathered in place: only rows whose source is another
  // row are written, and a row that is overwritten while another row still
  // reads it is saved first. Beams mostly continue their own hypothesis, so
  // this copies a fraction of what a full gather into a second buffer did
  // (that gather, position x d floats per row and cache every step, was the
  // largest cost outside the matrix products of a beam search).
  bool identity = new_sentences == sentences;
  for (int64_t i = 0; identity && i < static_cast<int64_t>(entry_source.size()); ++i)
    identity = entry_source[i] == i;
  if (!identity && position > 0 && !keys.empty()) {
    const int64_t rows = static_cast<int64_t>(entry_source.size());
    const int64_t old_rows = keys.front().dim(0);
    saved_slot.assign(old_rows, -1);
    int64_t saved = 0;
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t from = entry_source[i];
      const bool overwritten = from < rows && entry_source[from] != from;
      if (from != i && overwritten && saved_slot[from] < 0)
        saved_slot[from] = saved++;
    }
    const int64_t row = capacity * d;
    const size_t filled = sizeof(float) * position * d;
    spare.reserve(saved * row);
    for (auto *caches : {&keys, &values})
      for (auto &cache : *caches) {
        for (int64_t r = 0; r < old_rows; ++r)
          if (saved_slot[r] >= 0)
            std::memcpy(spare.data() + saved_slot[r] * row, cache.data() + r * row, filled);
        for (int64_t i = 0; i < rows; ++i) {
          const int64_t from = entry_source[i];
          if (from == i)
            continue;
          const float *source = saved_slot[from] >= 0 ? spare.data() + saved_slot[from] * row
                                                      : cache.data() + from * row;
          std::memcpy(cache.data() + i * row, source, filled);
        }
        cache.resize({rows, capacity, d}); // never grows here: no reallocation
      }
  }
  sentences = new_sentences;
}

} // namespace heed
