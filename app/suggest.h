// "Did you mean": the known name closest to a mistyped subcommand or flag.
#pragma once

#include <string>
#include <vector>

namespace heed::app {

// The name of `known` closest to `typed` by edit distance (insertions,
// deletions, substitutions and transpositions of adjacent characters, leading
// dashes ignored), or one that `typed` abbreviates (a prefix of it); "" when
// none is close enough to be a likely typo: at most 2 edits, and at most a
// third of the longer name's length.
std::string closest_name(const std::string &typed, const std::vector<std::string> &known);

} // namespace heed::app
