// config.json: any text either gives a MarianConfig within the bounds the rest
// of heed relies on, or a ModelError naming the file and field. Any other
// exception (nlohmann's type errors, std::out_of_range) escapes and counts as a
// crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "heed/core/error.h"
#include "heed/io/json_fields.h"
#include "heed/model/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string_view text(reinterpret_cast<const char *>(data), size);
  try {
    const auto c =
        heed::MarianConfig::from_json(heed::io::parse_json(text, "config.json"), "config.json");
    FUZZ_CHECK(c.vocab_size >= 1 && c.decoder_vocab_size >= 1);
    FUZZ_CHECK(c.d_model >= 1 && c.d_model <= 65536);
    FUZZ_CHECK(c.max_position_embeddings >= 1 && c.max_position_embeddings <= 65536);
    FUZZ_CHECK(c.encoder_layers >= 1 && c.decoder_layers >= 1);
    FUZZ_CHECK(c.encoder_ffn_dim >= 1 && c.decoder_ffn_dim >= 1);
    FUZZ_CHECK(c.encoder_attention_heads >= 1 && c.d_model % c.encoder_attention_heads == 0);
    FUZZ_CHECK(c.decoder_attention_heads >= 1 && c.d_model % c.decoder_attention_heads == 0);
    FUZZ_CHECK(c.pad_token_id >= 0 && c.pad_token_id < c.vocab_size);
    FUZZ_CHECK(c.eos_token_id >= 0 && c.eos_token_id < c.decoder_vocab_size);
    FUZZ_CHECK(c.decoder_start_token_id >= 0 && c.decoder_start_token_id < c.decoder_vocab_size);
    FUZZ_CHECK(!c.share_encoder_decoder_embeddings || c.vocab_size == c.decoder_vocab_size);
    FUZZ_CHECK(c.parameter_count() > 0); // UBSan watches the arithmetic
  } catch (const heed::ModelError &) {
  }
  return 0;
}
