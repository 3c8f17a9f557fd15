// A map from a shape key to a ready-to-run oneDNN primitive (with its memory
// objects). Creating a primitive descriptor costs tens of microseconds, far more
// than running a small decoding-step matmul, so each shape is built only once.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <unordered_map>

#include "heed/ops/context.h"

namespace heed::ops {

// A fixed-capacity key, so that looking a primitive up allocates nothing.
class PrimitiveKey {
public:
  static constexpr size_t kCapacity = 32;
  PrimitiveKey() = default;
  PrimitiveKey(std::initializer_list<int64_t> values) {
    for (int64_t v : values)
      push_back(v);
  }
  void push_back(int64_t v) {
    if (size_ == kCapacity)
      throw std::logic_error("PrimitiveKey: too many fields");
    values_[size_++] = v;
  }
  bool operator==(const PrimitiveKey &other) const {
    return size_ == other.size_ &&
           std::equal(values_.begin(), values_.begin() + size_, other.values_.begin());
  }
  size_t hash() const {
    size_t h = 1469598103934665603ull;
    for (size_t i = 0; i < size_; ++i)
      h = (h ^ static_cast<size_t>(values_[i])) * 1099511628211ull;
    return h;
  }

private:
  std::array<int64_t, kCapacity> values_{};
  size_t size_ = 0;
};

struct PrimitiveKeyHash {
  size_t operator()(const PrimitiveKey &key) const { return key.hash(); }
};

template <typename Entry> class PrimitiveCache {
public:
  // Bound on entries: corpora with many distinct lengths would otherwise grow the
  // cache without limit. Past it the cache starts over (rare, and cheap to refill).
  static constexpr size_t kMaxEntries = 8192;

  template <typename Make> Entry &get(const PrimitiveKey &key, Make &&make) {
    // oneDNN fixes a primitive's thread partitioning when it creates it: one
    // created for 1 thread keeps running on 1 thread after set_num_threads(2).
    // A change of thread count (benchmarks measure several in one process)
    // therefore starts the cache over.
    const int threads = num_threads();
    if (threads != threads_) {
      entries_.clear();
      threads_ = threads;
    }
    auto it = entries_.find(key);
    if (it != entries_.end())
      return it->second;
    if (entries_.size() >= kMaxEntries)
      entries_.clear();
    return entries_.emplace(key, make()).first->second;
  }
  size_t size() const { return entries_.size(); }

private:
  std::unordered_map<PrimitiveKey, Entry, PrimitiveKeyHash> entries_;
  int threads_ = 0;
};

} // namespace heed::ops
