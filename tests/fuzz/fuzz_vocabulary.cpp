// vocab.json: any text either gives a vocabulary whose ids and pieces map onto
// each other within the embedding, or a ModelError naming the file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "heed/core/error.h"
#include "heed/io/json_fields.h"
#include "heed/text/vocabulary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // As many embedding rows as the tiny test models: their vocab.json is a seed.
  constexpr int64_t kEmbeddingRows = 601;
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  try {
    const auto vocab = heed::Vocabulary::from_json(heed::io::parse_json(text, "vocab.json"),
                                                   "vocab.json", kEmbeddingRows);
    FUZZ_CHECK(vocab.size() <= kEmbeddingRows);
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
  } catch (const heed::ModelError &) {
  }
  return 0;
}
