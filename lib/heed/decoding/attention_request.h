// Which attention weights to record, and how to reduce layers and heads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace heed {

enum class Reduction { none, mean, max };

// A selection of layers or heads: explicit indices (negative counts from the
// end, -1 = last), or all of them reduced by mean or max, or all (empty, none).
struct IndexSelection {
  std::vector<int64_t> indices;
  Reduction reduction = Reduction::none;

  // Parses "all", "mean", "max" or a comma-separated index list ("0,2,-1");
  // OptionError naming `what` (the flag, for the command line) otherwise.
  static IndexSelection parse(const std::string &text, const std::string &what);
  // The selected indices resolved against `count` (empty for a reduction over all).
  std::vector<int64_t> resolve(int64_t count, const std::string &what) const;
};

struct AttentionRequest {
  bool cross = false;
  bool encoder = false;
  bool decoder = false;
  IndexSelection layers;
  IndexSelection heads;

  bool any() const { return cross || encoder || decoder; }
  // Parses the kinds to record: cross, encoder, decoder or all (comma lists
  // allowed); OptionError naming `what` (the flag, for the command line)
  // otherwise.
  void set_kinds(const std::string &text, const std::string &what = "attention kind");
};

} // namespace heed
