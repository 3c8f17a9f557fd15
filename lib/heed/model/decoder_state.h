// Everything the decoder keeps between steps for a batch of sentences: the
// projected encoder memory per layer (once per sentence, shared by its beams),
// the self-attention key/value caches per layer (one row per beam), and the
// source padding mask. Memory and caches are float32 or bfloat16
// (Decoder::cache_type chooses; layers/attention.h says how they are
// multiplied): at batch 32 beam 4 the caches are the largest buffers of a
// run after the weights, 198 MB of float32 at d 512 and 63 positions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "heed/core/buffer.h"
#include "heed/core/element_type.h"
#include "heed/core/tensor.h"

namespace heed {

struct DecoderState {
  int64_t sentences = 0;
  int64_t group = 1;         // hypotheses per sentence (beams)
  int64_t source_length = 0; // padded source length
  int64_t capacity = 0;      // decoder positions the caches hold
  int64_t position = 0;      // positions already decoded
  int64_t d_model = 0;
  ElementType cache_type = ElementType::float32; // of memory, keys and values

  Tensor mask;                // [sentences, source_length]
  std::vector<Buffer> memory; // per layer [sentences, source_length, 2d]: keys | values
  std::vector<Buffer> keys;   // per layer [entries, capacity, d]
  std::vector<Buffer> values; // per layer [entries, capacity, d]
  // An in-place reorder's plan, reused from step to step: the row copies in
  // an order that reads each row before it is overwritten, and the one row a
  // cycle of rows (beams trading places) is rotated through.
  struct RowCopy {
    int64_t to, from; // from == -1: from `spare`
  };
  std::vector<RowCopy> copies;
  std::vector<int64_t> saved_before; // per copy: the row saved into `spare` first, or -1
  std::vector<int64_t> readers, ready;
  std::vector<char> done;
  Buffer spare; // [capacity, d]

  int64_t entries() const { return sentences * group; }
  // Bytes of one entry's cache row, [capacity, d], and of one sentence's memory.
  size_t cache_row_bytes() const {
    return static_cast<size_t>(capacity * d_model) * element_bytes(cache_type);
  }
  size_t memory_row_bytes() const {
    return static_cast<size_t>(source_length * 2 * d_model) * element_bytes(cache_type);
  }

  // Keeps sentences `sentence_source` (ascending old sentence indices) and makes
  // new entry i a copy of old entry `entry_source[i]`, which must belong to the
  // matching kept sentence. Used for beam reorders and to drop finished
  // sentences.
  void select(const std::vector<int64_t> &sentence_source,
              const std::vector<int64_t> &entry_source);

private:
  // Fills `copies` and `saved_before` for select().
  void plan_copies(const std::vector<int64_t> &entry_source);
};

} // namespace heed
