// Resuming an interrupted translation into a file: the file keeps its complete
// outputs, a partial last line (from a kill in the middle of a write) is cut
// off, and the caller learns how many inputs are done.
#pragma once

#include <cstdint>
#include <string>

namespace heed::io {

// Truncates `path` after its last complete group of `lines_per_input` lines and
// returns the number of complete groups (inputs). A missing file counts as 0.
// IoError naming the path when it cannot be read or truncated.
int64_t truncate_to_complete_outputs(const std::string &path, int64_t lines_per_input);

} // namespace heed::io
