#include "heed/decoding/batching.h"

#include <algorithm>
#include <numeric>

#include "heed/core/error.h"

namespace heed {

BatchType parse_batch_type(const std::string &name) {
  if (name == "sentences")
    return BatchType::sentences;
  if (name == "tokens")
    return BatchType::tokens;
  throw OptionError("--batch-type must be sentences or tokens, got '" + name + "'");
}

std::vector<std::vector<size_t>> make_batches(const std::vector<int64_t> &lengths, BatchType type,
                                              int64_t size) {
  std::vector<size_t> order;
  for (size_t i = 0; i < lengths.size(); ++i)
    if (lengths[i] > 0)
      order.push_back(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
  std::vector<std::vector<size_t>> batches;
  for (size_t i : order) {
    if (!batches.empty()) {
      auto &batch = batches.back();
      const int64_t rows = static_cast<int64_t>(batch.size()) + 1;
      // The first sentence of a batch is its longest.
      const bool fits =
          type == BatchType::sentences ? rows <= size : rows * lengths[batch.front()] <= size;
      if (fits) {
        batch.push_back(i);
        continue;
      }
    }
    batches.push_back({i});
  }
  return batches;
}

} // namespace heed
