#include "heed/decoding/batch_workers.h"

#include "heed/ops/context.h"

namespace heed {

BatchWorkers::BatchWorkers(int count, int threads) {
  ops::check_num_threads(threads);
  threads_.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i)
    threads_.emplace_back([this, i, threads] { serve(i, threads); });
}

BatchWorkers::~BatchWorkers() {
  {
    std::lock_guard lock(mutex_);
    shutdown_ = true;
  }
  work_ready_.notify_all();
  for (auto &t : threads_)
    t.join();
}

void BatchWorkers::serve(int worker, int threads) {
  // The OpenMP thread count is per thread: a new thread starts from the
  // process default (OMP_NUM_THREADS or every CPU), not from its creator's.
  ops::set_num_threads(threads);
  std::unique_lock lock(mutex_);
  for (;;) {
    work_ready_.wait(lock,
                     [&] { return shutdown_ || (work_ != nullptr && !stop_ && next_ < items_); });
    if (shutdown_)
      return;
    const size_t item = next_++;
    ++running_;
    const auto &work = *work_;
    lock.unlock();
    std::exception_ptr error;
    try {
      work(worker, item);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    --running_;
    status_[item] = error ? Status::failed : Status::done;
    if (error) {
      errors_[item] = error;
      stop_ = true;
    }
    item_done_.notify_all();
  }
}

void BatchWorkers::run(size_t items, const std::function<void(int, size_t)> &work,
                       const std::function<void(size_t)> &finished) {
  std::unique_lock lock(mutex_);
  status_.assign(items, Status::pending);
  errors_.assign(items, nullptr);
  items_ = items;
  next_ = 0;
  stop_ = false;
  work_ = &work;
  work_ready_.notify_all();
  std::exception_ptr error;
  for (size_t i = 0; i < items; ++i) {
    item_done_.wait(lock, [&] { return status_[i] != Status::pending || stop_; });
    if (status_[i] != Status::done)
      break;
    lock.unlock();
    try {
      finished(i);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error)
      break;
  }
  // Hand out nothing more, and let the items running end before `work` (the
  // caller's) goes out of scope.
  stop_ = true;
  item_done_.wait(lock, [&] { return running_ == 0; });
  work_ = nullptr;
  for (size_t i = 0; i < items && !error; ++i)
    if (errors_[i])
      error = errors_[i];
  if (error)
    std::rethrow_exception(error);
}

} // namespace heed
