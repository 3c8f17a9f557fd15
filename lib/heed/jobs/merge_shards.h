// `heed merge-shards`: the outputs of `--shard 0/N` ... `--shard N-1/N`
// interleaved into the output of a single run (input line i is line i / N of
// shard i % N; io/shards.h).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace heed {

// Merges the files `paths` (shard 0 first) into `out` and returns the number
// of inputs. The format is detected from the files' first lines:
// - n-best lists (outputs/nbest_line.h: "INDEX ||| ...", any number of lines
//   per input) and JSON lines ({"index": ...}) carry each input's index;
//   shard K of N must hold the indices K, K+N, K+2N, ... in order, so shards
//   given out of order or twice, or from another run, are refused naming the
//   file, line and index;
// - plain text carries none: the line counts must fit (each shard as long as
//   shard 0, or one line shorter, the longer ones first).
// The same file given twice is refused too. IoError naming the file.
int64_t merge_shards(const std::vector<std::string> &paths, std::ostream &out);

} // namespace heed
