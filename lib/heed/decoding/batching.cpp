#include "heed/decoding/batching.h"

#include <algorithm>
#include <numeric>

#include "heed/core/error.h"

namespace heed {

BatchType parse_batch_type(const std::string &name, const std::string &what) {
  if (name == "sentences")
    return BatchType::sentences;
  if (name == "tokens")
    return BatchType::tokens;
  throw OptionError(what + " must be sentences or tokens, got '" + name + "'");
}

int64_t pad_batch(const std::vector<const std::vector<int64_t> *> &batch, int64_t pad,
                  std::vector<int64_t> &ids, std::vector<int64_t> &lengths) {
  const int64_t n = static_cast<int64_t>(batch.size());
  int64_t length = 0;
  for (const auto *row : batch)
    length = std::max<int64_t>(length, static_cast<int64_t>(row->size()));
  ids.assign(n * length, pad);
  lengths.resize(n);
  for (int64_t b = 0; b < n; ++b) {
    std::copy(batch[b]->begin(), batch[b]->end(), ids.begin() + b * length);
    lengths[b] = static_cast<int64_t>(batch[b]->size());
  }
  return length;
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
