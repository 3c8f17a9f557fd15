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
      const size_t bytes = memory_row_bytes();
      for (auto &m : memory)
        std::memmove(m.data() + j * bytes, m.data() + from * bytes, bytes);
    }
  }

  // Per-entry caches, gathered in place: only rows whose source is another
  // row are written, each after every row that reads its old contents, so
  // nothing needs saving but one row per cycle (beams trading places).
  // Beams mostly continue their own hypothesis, so this copies a fraction of
  // what a full gather into a second buffer did (that gather, position x d
  // floats per row and cache every step, was the largest cost outside the
  // matrix products of a beam search), and it holds one spare row where a
  // copy of every moved row took up to a twelfth of the caches again.
  bool identity = new_sentences == sentences;
  for (int64_t i = 0; identity && i < static_cast<int64_t>(entry_source.size()); ++i)
    identity = entry_source[i] == i;
  if (!identity && position > 0 && !keys.empty()) {
    plan_copies(entry_source);
    const size_t row = cache_row_bytes();
    const size_t filled = static_cast<size_t>(position * d) * element_bytes(cache_type);
    spare.reserve(row);
    for (auto *caches : {&keys, &values})
      for (auto &cache : *caches)
        for (size_t c = 0; c < copies.size(); ++c) {
          if (saved_before[c] >= 0)
            std::memcpy(spare.data(), cache.data() + saved_before[c] * row, filled);
          const RowCopy &copy = copies[c];
          const std::byte *source = copy.from < 0 ? spare.data() : cache.data() + copy.from * row;
          std::memcpy(cache.data() + copy.to * row, source, filled);
        }
  }
  sentences = new_sentences;
}

void DecoderState::plan_copies(const std::vector<int64_t> &entry_source) {
  const int64_t rows = static_cast<int64_t>(entry_source.size());
  const int64_t old_rows = entries(); // select() updates `sentences` after planning
  copies.clear();
  saved_before.clear();
  // readers[r]: the new rows other than r that still have to read old row r.
  readers.assign(static_cast<size_t>(old_rows), 0);
  for (int64_t i = 0; i < rows; ++i)
    if (entry_source[i] != i)
      ++readers[static_cast<size_t>(entry_source[i])];
  // Rows nobody reads are written first; each write may free its source.
  ready.clear();
  for (int64_t i = 0; i < rows; ++i)
    if (entry_source[i] != i && readers[static_cast<size_t>(i)] == 0)
      ready.push_back(i);
  done.assign(static_cast<size_t>(rows), 0);
  while (!ready.empty()) {
    const int64_t i = ready.back();
    ready.pop_back();
    const int64_t from = entry_source[i];
    copies.push_back({i, from});
    saved_before.push_back(-1);
    done[static_cast<size_t>(i)] = 1;
    if (--readers[static_cast<size_t>(from)] == 0 && from < rows && entry_source[from] != from &&
        !done[static_cast<size_t>(from)])
      ready.push_back(from);
  }
  // What is left are cycles, each row read by exactly the one before it: save
  // the first row, copy along the cycle, and close it from the saved row.
  for (int64_t first = 0; first < rows; ++first) {
    if (entry_source[first] == first || done[static_cast<size_t>(first)])
      continue;
    int64_t i = first;
    for (;;) {
      const int64_t from = entry_source[i];
      done[static_cast<size_t>(i)] = 1;
      copies.push_back({i, from == first ? -1 : from});
      saved_before.push_back(i == first ? first : -1);
      if (from == first)
        break;
      i = from;
    }
  }
}

} // namespace heed
