// Resuming an interrupted translation into a file: the file keeps its complete
// outputs, a partial last line (from a kill in the middle of a write) is cut
// off, and the caller learns how many inputs are done.
#pragma once

#include <cstdint>
#include <string>

namespace heed::io {

struct CompleteOutputs {
  int64_t inputs = 0; // complete groups of `lines_per_input` lines
  int64_t bytes = 0;  // where the last complete group ends
  int64_t size = 0;   // the file's size (more than `bytes` after a kill mid-write)
};

// Counts the complete outputs of `path` without changing it; a missing file
// has none. IoError naming the path when it cannot be read.
CompleteOutputs count_complete_outputs(const std::string &path, int64_t lines_per_input);

// Truncates `path` after its last complete group of `lines_per_input` lines and
// returns the number of complete groups (inputs). A missing file counts as 0.
// IoError naming the path when it cannot be read or truncated.
int64_t truncate_to_complete_outputs(const std::string &path, int64_t lines_per_input);

} // namespace heed::io
