// generation_config.json: any text either gives decoding defaults within the
// ranges the search code relies on (ids are used as indices into logits), or a
// ModelError naming the file and field.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "fuzz_check.h"
#include "heed/core/error.h"
#include "heed/io/json_fields.h"
#include "heed/model/generation_config.h"

namespace {

bool valid_id(const std::optional<int64_t> &id) { return !id || (*id >= 0 && *id <= 10'000'000); }

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  try {
    const auto g = heed::GenerationConfig::from_json(
        heed::io::parse_json(text, "generation_config.json"), "generation_config.json");
    FUZZ_CHECK(g.max_length >= 1);
    FUZZ_CHECK(!g.max_new_tokens || *g.max_new_tokens >= 0);
    FUZZ_CHECK(g.effective_max_length() >= 1);
    FUZZ_CHECK(g.min_length >= 0);
    FUZZ_CHECK(g.num_beams >= 1 && g.num_beams <= 1024);
    FUZZ_CHECK(g.num_return_sequences >= 1);
    FUZZ_CHECK(valid_id(g.decoder_start_token_id));
    FUZZ_CHECK(valid_id(g.eos_token_id));
    FUZZ_CHECK(valid_id(g.pad_token_id));
    FUZZ_CHECK(valid_id(g.forced_eos_token_id));
    FUZZ_CHECK(heed::early_stopping_name(g.early_stopping)[0] != '?');
    // The processors' and warpers' values (decoding/logits_processor.h,
    // token_sampler.h) are within what they divide by and index with.
    FUZZ_CHECK(g.repetition_penalty > 0 && g.repetition_penalty <= 1000);
    FUZZ_CHECK(g.temperature > 0 && g.temperature <= 1000);
    FUZZ_CHECK(g.top_p > 0 && g.top_p <= 1);
    FUZZ_CHECK(g.top_k >= 0);
    FUZZ_CHECK(g.no_repeat_ngram_size >= 0);
    FUZZ_CHECK(!g.min_new_tokens || *g.min_new_tokens >= 0);
  } catch (const heed::ModelError &) {
  }
  return 0;
}
