// Threads that run the batches of one Translator::translate() call side by
// side (TranslationOptions::workers), as CTranslate2's inter_threads runs
// model replicas: on a many-core machine N batches on T cores each keep the
// cores busier than one batch on N x T cores, whose per-op parallelism
// saturates on small matrices. Each thread sets its own OpenMP thread count
// (libgomp keeps one per thread), so every batch runs on exactly T threads and
// its results do not depend on the number of workers.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace heed {

class BatchWorkers {
public:
  // Starts `count` (>= 1) threads, each computing on `threads` (>= 1) OpenMP
  // threads (ops::set_num_threads; OptionError "threads" out of range).
  BatchWorkers(int count, int threads);
  ~BatchWorkers(); // waits for the threads to end
  BatchWorkers(const BatchWorkers &) = delete;
  BatchWorkers &operator=(const BatchWorkers &) = delete;

  int size() const { return static_cast<int>(threads_.size()); }

  // Runs work(worker, item) for items 0 .. items-1 on the threads (`worker`
  // in [0, size()) names the thread, so each may own state), handing items out
  // in order, and finished(item) on the calling thread in item order, each as
  // soon as its item is done. The first exception, of `work` (the earliest
  // item's) or of `finished`, stops handing out items; it is rethrown once
  // the items running have ended.
  void run(size_t items, const std::function<void(int worker, size_t item)> &work,
           const std::function<void(size_t item)> &finished);

private:
  enum class Status { pending, done, failed };
  void serve(int worker, int threads);

  std::mutex mutex_;
  std::condition_variable work_ready_, item_done_;
  const std::function<void(int, size_t)> *work_ = nullptr; // null between runs
  size_t items_ = 0, next_ = 0;
  int running_ = 0;
  bool stop_ = false, shutdown_ = false;
  std::vector<Status> status_;
  std::vector<std::exception_ptr> errors_;
  std::vector<std::thread> threads_;
};

} // namespace heed
