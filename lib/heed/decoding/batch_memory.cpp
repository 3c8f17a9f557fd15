#include "heed/decoding/batch_memory.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "heed/core/available_memory.h"
#include "heed/core/error.h"

namespace heed {
namespace {

// Products of sizes from a checked config stay far below 2^63 except for
// absurd option values, where saturating keeps the comparison meaningful.
int64_t times(int64_t a, int64_t b) {
  if (a != 0 && b > INT64_MAX / a)
    return INT64_MAX;
  return a * b;
}
int64_t plus(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

std::string gigabytes(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GB", static_cast<double>(bytes) / 1e9);
  return text;
}

} // namespace

int64_t batch_memory_bytes(const MarianConfig &c, int64_t sentences, int64_t source_length,
                           int64_t beams, int64_t capacity) {
  const int64_t d = c.d_model, rows = times(sentences, beams);
  const int64_t tokens = times(sentences, source_length);
  int64_t floats = 0;
  // Self-attention keys and values per layer, and the row a reorder saves.
  floats = plus(floats, times(plus(times(rows, 2 * c.decoder_layers), 1), times(capacity, d)));
  // One step's logits, attention scores and activations.
  floats = plus(floats, times(rows, c.decoder_vocab_size + c.decoder_attention_heads * capacity +
                                        c.decoder_ffn_dim + 8 * d));
  // Cross-attention keys and values per layer, the mask.
  floats = plus(floats, times(tokens, 2 * d * c.decoder_layers + 1));
  // The encoder: activations, fused projections, feed-forward and scores.
  floats = plus(
      floats, times(tokens, 8 * d + c.encoder_ffn_dim + c.encoder_attention_heads * source_length));
  // Beam search histories: tokens and state rows per step (int64 each), for
  // the running beams and the finished ones.
  const int64_t history = times(times(rows, capacity), 4 * 8);
  return plus(times(floats, 4), history);
}

void check_batch_memory(const MarianConfig &config, int64_t sentences, int64_t source_length,
                        int64_t beams, int64_t capacity) {
  check_batch_memory(std::vector<const MarianConfig *>{&config}, sentences, source_length, beams,
                     capacity);
}

void check_batch_memory(const std::vector<const MarianConfig *> &configs, int64_t sentences,
                        int64_t source_length, int64_t beams, int64_t capacity) {
  int64_t need = 0;
  for (const MarianConfig *config : configs)
    need = plus(need, batch_memory_bytes(*config, sentences, source_length, beams, capacity));
  // Small batches are never worth the system calls.
  if (need < (int64_t{256} << 20))
    return;
  const int64_t available = available_memory_bytes();
  if (need <= available)
    return;
  const std::string what =
      "a batch of " + std::to_string(sentences) + " sentence(s) of up to " +
      std::to_string(source_length) + " tokens with " + std::to_string(beams) +
      " beam(s) and up to " + std::to_string(capacity) + " steps" +
      (configs.size() > 1 ? " with " + std::to_string(configs.size()) + " ensemble members"
                          : std::string()) +
      " needs about " + gigabytes(need) + ", more than the " + gigabytes(available) +
      " of memory available; lower the beam size, the batch size or the "
      "length limit";
  throw OptionError(beams > 1 ? "beam_size" : "batch_size", what);
}

} // namespace heed
