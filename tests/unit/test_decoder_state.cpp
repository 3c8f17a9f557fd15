// DecoderState::select, the beam reorder and sentence compaction of the
// self-attention caches, against a plain gather into fresh buffers.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "heed/model/decoder_state.h"

namespace {

// The value of old entry `entry`'s position `p`, feature `f` in cache `c`.
float mark(int c, int64_t entry, int64_t p, int64_t f) {
  return static_cast<float>(c * 1'000'000 + entry * 10'000 + p * 100 + f);
}

} // namespace

TEST_CASE("decoder caches are reordered in place as a gather would", "[decoding]") {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 300; ++trial) {
    const int64_t group = 1 + rng() % 5, sentences = 1 + rng() % 6, d = 3, capacity = 7;
    const int64_t position = 1 + rng() % capacity;
    heed::DecoderState state;
    state.sentences = sentences;
    state.group = group;
    state.source_length = 2;
    state.capacity = capacity;
    state.position = position;
    state.d_model = d;
    state.mask.resize({sentences, 2});
    const int layers = 2;
    for (int l = 0; l < layers; ++l) {
      state.memory.emplace_back(std::vector<int64_t>{sentences, 2, 2 * d});
      for (auto *caches : {&state.keys, &state.values}) {
        heed::Tensor cache({sentences * group, capacity, d});
        const int c = static_cast<int>(caches == &state.keys ? 2 * l : 2 * l + 1);
        for (int64_t e = 0; e < sentences * group; ++e)
          for (int64_t p = 0; p < capacity; ++p)
            for (int64_t f = 0; f < d; ++f)
              cache.data()[(e * capacity + p) * d + f] = mark(c, e, p, f);
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
    for (int l = 0; l < layers; ++l)
      for (int which = 0; which < 2; ++which) {
        const heed::Tensor &cache = which == 0 ? state.keys[l] : state.values[l];
        const int c = 2 * l + which;
        REQUIRE(cache.dim(0) == static_cast<int64_t>(entries.size()));
        for (size_t i = 0; i < entries.size(); ++i)
          for (int64_t p = 0; p < position; ++p)
            for (int64_t f = 0; f < d; ++f) {
              INFO("trial " << trial << " entry " << i << " from " << entries[i]);
              REQUIRE(cache.data()[(static_cast<int64_t>(i) * capacity + p) * d + f] ==
                      mark(c, entries[i], p, f));
            }
      }
  }
}
