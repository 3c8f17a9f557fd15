// Bounds of the generation values heed accepts, from generation_config.json
// (GenerationConfig) and from the user's options that override them
// (TranslationOptions). A header of its own so that TranslationOptions, part of
// heed's public interface, takes them without the JSON parsing of
// generation_config.h.
#pragma once

#include <cstdint>

namespace heed {

struct GenerationLimits {
  static constexpr int64_t kMaxLength = 1'048'576; // max_length, max_new_tokens, min_length
  static constexpr int64_t kMaxBeams = 1024;       // num_beams, num_return_sequences
  // |length_penalty|: beam scores are divided by length^penalty in float32,
  // which must stay a normal number for every length a Marian model reaches
  // (1024 positions): 1024^10 = 1.3e30 and 1024^-10 = 7.9e-31 are.
  static constexpr double kMaxLengthPenalty = 10;
  // repetition_penalty and temperature divide scores: in (0, kMaxDivisor].
  static constexpr double kMaxDivisor = 1000;
  static constexpr int64_t kMaxTopK = 1'048'576; // top_k (0 = off)
};

} // namespace heed
