// A Marian *.vocab.yml: any text either gives a vocabulary whose ids and
// pieces map onto each other within the embedding, or a ModelError naming the
// file; never a crash, a deep recursion or an alias expansion.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "heed/core/error.h"
#include "heed/text/vocabulary.h"
#include "vocabulary_invariants.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  constexpr int64_t kEmbeddingRows = 601;
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  try {
    auto vocab = heed::Vocabulary::from_yaml(text, "vocab.yml", kEmbeddingRows);
    check_vocabulary_invariants(vocab, kEmbeddingRows);
    if (!vocab.find("<pad>") && vocab.size() < kEmbeddingRows) {
      const int64_t before = vocab.size();
      FUZZ_CHECK(vocab.append("<pad>", kEmbeddingRows) == before);
      FUZZ_CHECK(vocab.find("<pad>") == before);
    }
  } catch (const heed::ModelError &) {
  }
  return 0;
}
