// Deterministic sharding of an input for distributed runs: shard K of N takes
// input lines K, K+N, K+2N, ... (0-based). Interleaving the N outputs line by
// line, shard 0 first, rebuilds the output of a single run.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace heed::io {

struct Shard {
  int64_t index = 0;
  int64_t count = 1;
  bool contains(int64_t line) const { return line % count == index; }
};

// Parses "K/N" with 0 <= K < N; OptionError naming `what` (the flag, for the
// command line) otherwise.
Shard parse_shard(const std::string &text, const std::string &what = "shard");

// Interleaves shard outputs (paths in shard order) into `out`; `lines_per_input`
// lines form one input's output. IoError when the files cannot come from one
// sharded run (line counts inconsistent).
int64_t merge_shards(const std::vector<std::string> &paths, std::ostream &out,
                     int64_t lines_per_input = 1);

} // namespace heed::io
