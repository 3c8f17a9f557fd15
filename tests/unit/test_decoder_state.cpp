// DecoderState::select, the beam reorder and sentence compaction of the
// self-attention caches and encoder memory, against a plain gather into fresh
// buffers, with float32 and bfloat16 (16-bit) elements.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "heed/model/decoder_state.h"

namespace {

// A distinct value below 2^16 for old entry `entry`'s position `p`, feature
// `f` in cache `c` (4 caches, entries < 32, positions < 8, features < 4), so
// that it fits either element type exactly.
uint32_t mark(int c, int64_t entry, int64_t p, int64_t f) {
  return static_cast<uint32_t>(((c * 32 + entry) * 8 + p) * 4 + f);
}

void put(heed::Buffer &b, heed::ElementType type, int64_t at, uint32_t value) {
  if (type == heed::ElementType::bfloat16)
    b.as<uint16_t>()[at] = static_cast<uint16_t>(value);
  else
    b.as<float>()[at] = static_cast<float>(value);
}

uint32_t get(const heed::Buffer &b, heed::ElementType type, int64_t at) {
  if (type == heed::ElementType::bfloat16)
    return b.as<uint16_t>()[at];
  return static_cast<uint32_t>(b.as<float>()[at]);
}

} // namespace

TEST_CASE("decoder caches are reordered in place as a gather would", "[decoding]") {
  for (const auto type : {heed::ElementType::float32, heed::ElementType::bfloat16}) {
    std::mt19937 rng(5);
    for (int trial = 0; trial < 300; ++trial) {
      const int64_t group = 1 + rng() % 5, sentences = 1 + rng() % 6, d = 3, capacity = 7;
      const int64_t position = 1 + rng() % capacity, source_length = 2;
      heed::DecoderState state;
      state.sentences = sentences;
      state.group = group;
      state.source_length = source_length;
      state.capacity = capacity;
      state.position = position;
      state.d_model = d;
      state.cache_type = type;
      state.mask.resize({sentences, source_length});
      const int layers = 2;
      for (int l = 0; l < layers; ++l) {
        heed::Buffer memory;
        memory.reserve(sentences * state.memory_row_bytes());
        for (int64_t s = 0; s < sentences; ++s)
          for (int64_t i = 0; i < source_length * 2 * d; ++i)
            put(memory, type, s * source_length * 2 * d + i,
                mark(l, s, i / (2 * d) + 1, 0) * 8 + i % (2 * d));
        state.memory.push_back(std::move(memory));
        for (auto *caches : {&state.keys, &state.values}) {
          heed::Buffer cache;
          cache.reserve(sentences * group * state.cache_row_bytes());
          const int c = static_cast<int>(caches == &state.keys ? 2 * l : 2 * l + 1);
          for (int64_t e = 0; e < sentences * group; ++e)
            for (int64_t p = 0; p < capacity; ++p)
              for (int64_t f = 0; f < d; ++f)
                put(cache, type, (e * capacity + p) * d + f, mark(c, e, p, f));
          caches->push_back(std::move(cache));
        }
      }
      // Keep a random ascending subset of sentences (at least one); each new
      // beam copies any beam of its own sentence, repeats allowed.
      std::vector<int64_t> kept;
      for (int64_t s = 0; s < sentences; ++s)
        if (rng() % 3 != 0)
          kept.push_back(s);
      if (kept.empty())
        kept.push_back(rng() % sentences);
      std::vector<int64_t> entries;
      for (int64_t s : kept)
        for (int64_t b = 0; b < group; ++b)
          entries.push_back(s * group + (trial % 4 == 0 ? b : static_cast<int64_t>(rng() % group)));
      state.select(kept, entries);
      REQUIRE(state.sentences == static_cast<int64_t>(kept.size()));
      REQUIRE(state.entries() == static_cast<int64_t>(entries.size()));
      for (int l = 0; l < layers; ++l) {
        for (size_t s = 0; s < kept.size(); ++s)
          for (int64_t i = 0; i < source_length * 2 * d; ++i) {
            INFO("trial " << trial << " sentence " << s << " from " << kept[s]);
            REQUIRE(
                get(state.memory[l], type, static_cast<int64_t>(s) * source_length * 2 * d + i) ==
                mark(l, kept[s], i / (2 * d) + 1, 0) * 8 + i % (2 * d));
          }
        for (int which = 0; which < 2; ++which) {
          const heed::Buffer &cache = which == 0 ? state.keys[l] : state.values[l];
          const int c = 2 * l + which;
          for (size_t i = 0; i < entries.size(); ++i)
            for (int64_t p = 0; p < position; ++p)
              for (int64_t f = 0; f < d; ++f) {
                INFO("type " << static_cast<int>(type) << " trial " << trial << " entry " << i
                             << " from " << entries[i]);
                REQUIRE(get(cache, type, (static_cast<int64_t>(i) * capacity + p) * d + f) ==
                        mark(c, entries[i], p, f));
              }
        }
      }
    }
  }
}
