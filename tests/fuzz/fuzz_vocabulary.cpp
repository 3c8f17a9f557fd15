// vocab.json: any text either gives a vocabulary whose ids and pieces map onto
// each other within the embedding, or a ModelError naming the file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "heed/core/error.h"
#include "heed/io/json_fields.h"
#include "heed/text/vocabulary.h"
#include "vocabulary_invariants.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // As many embedding rows as the tiny test models: their vocab.json is a seed.
  constexpr int64_t kEmbeddingRows = 601;
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  try {
    const auto vocab = heed::Vocabulary::from_json(heed::io::parse_json(text, "vocab.json"),
                                                   "vocab.json", kEmbeddingRows);
    check_vocabulary_invariants(vocab, kEmbeddingRows);
  } catch (const heed::ModelError &) {
  }
  return 0;
}
