// Deterministic sharding of an input for distributed runs: shard K of N takes
// input lines K, K+N, K+2N, ... (0-based). Interleaving the N outputs line by
// line, shard 0 first, rebuilds the output of a single run.
#pragma once

#include <cstdint>
#include <string>

namespace heed::io {

struct Shard {
  int64_t index = 0;
  int64_t count = 1;
  bool contains(int64_t line) const { return line % count == index; }
};

// Parses "K/N" with 0 <= K < N; OptionError naming `what` (the flag, for the
// command line) otherwise.
Shard parse_shard(const std::string &text, const std::string &what = "shard");

} // namespace heed::io
