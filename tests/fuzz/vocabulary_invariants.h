// What every vocabulary a loader accepts must satisfy, whatever file it came
// from (vocab.json, a Marian *.vocab.yml): ids within the embedding rows, ids
// and pieces mapping onto each other, <unk> present, lookups of unknown or
// out-of-range keys harmless.
#pragma once

#include <cstdint>

#include "fuzz_check.h"
#include "heed/text/vocabulary.h"

inline void check_vocabulary_invariants(const heed::Vocabulary &vocab, int64_t embedding_rows) {
  FUZZ_CHECK(vocab.size() <= embedding_rows);
  FUZZ_CHECK(vocab.entries() <= vocab.size());
  FUZZ_CHECK(vocab.unk_id() >= 0 && vocab.unk_id() < vocab.size());
  FUZZ_CHECK(vocab.piece(vocab.unk_id()) == "<unk>");
  int64_t named = 0;
  for (int64_t id = 0; id < vocab.size(); ++id) {
    const auto found = vocab.find(vocab.piece(id));
    if (found && *found == id)
      ++named;
  }
  FUZZ_CHECK(named == vocab.entries()); // ids are distinct: one piece each
  FUZZ_CHECK(vocab.piece(-1).empty() && vocab.piece(vocab.size()).empty());
  FUZZ_CHECK(vocab.id_or_unk("\xff not a piece \xff") == vocab.unk_id());
}
