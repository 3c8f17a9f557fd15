// A map from a shape key to a ready-to-run oneDNN primitive (with its memory
// objects). Creating a primitive descriptor costs tens of microseconds, far more
// than running a small decoding-step matmul, so each shape is built once and
// kept while it is in use. Each thread keeps its own caches (thread_local at
// the ops that use them): an entry's memory objects get the data of each call,
// so translator workers (decoding/batch_workers.h) cannot share one.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <list>
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

// The most recently used primitives, at most `capacity` of them: a long run
// meets a new shape with almost every batch (sentence counts, lengths and
// decoding steps all vary), and a cache that only grows would make memory grow
// with the number of shapes seen, not with the batch. Least recently used
// entries are dropped first; the shapes of one batch's steps are reused
// step after step, so they stay. 128 entries per op keep a whole beam-search
// batch's step shapes (two attention products per decoding step) warm for the
// next batch: measured on 300 test_2016_flickr lines, beam 5, 128 entries run
// within 2% of 256 (32 entries: 10% slower), and 1,500 lines of 1-200 words in
// token batches of 2,048 grow RSS by 8% from 20% to 90% of the run (256: 11%).
template <typename Entry> class PrimitiveCache {
public:
  static constexpr size_t kDefaultCapacity = 128;

  explicit PrimitiveCache(size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  // The entry for `key`, made by `make()` when absent. The reference stays
  // valid until `capacity` other keys have been looked up.
  template <typename Make> Entry &get(const PrimitiveKey &key, Make &&make) {
    // oneDNN fixes a primitive's thread partitioning when it creates it: one
    // created for 1 thread keeps running on 1 thread after set_num_threads(2).
    // A change of thread count (benchmarks measure several in one process)
    // therefore starts the cache over.
    const int threads = num_threads();
    if (threads != threads_) {
      index_.clear();
      entries_.clear();
      threads_ = threads;
    }
    auto it = index_.find(key);
    if (it != index_.end()) {
      entries_.splice(entries_.begin(), entries_, it->second);
      return it->second->second;
    }
    if (entries_.size() >= capacity_) {
      index_.erase(entries_.back().first);
      entries_.pop_back();
    }
    entries_.emplace_front(key, make());
    index_.emplace(key, entries_.begin());
    return entries_.front().second;
  }
  size_t size() const { return entries_.size(); }
  size_t capacity() const { return capacity_; }

private:
  using List = std::list<std::pair<PrimitiveKey, Entry>>;
  size_t capacity_;
  List entries_; // most recently used first
  std::unordered_map<PrimitiveKey, typename List::iterator, PrimitiveKeyHash> index_;
  int threads_ = 0;
};

} // namespace heed::ops
