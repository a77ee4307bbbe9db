#include "util/work_pool.h"

namespace dfs::util {

WorkPool::WorkPool(size_t max_threads) : max_threads_(max_threads == 0 ? 1 : max_threads) {}

WorkPool::~WorkPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    t.join();
}

void WorkPool::post(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
    // A thread more when every thread is busy: a job never waits behind a blocked one while
    // the pool may still grow.
    if (idle_ < jobs_.size() && threads_.size() < max_threads_) {
      threads_.emplace_back([this] { run(); });
      return;
    }
  }
  cv_.notify_one();
}

size_t WorkPool::threads() const {
  std::lock_guard lock(mu_);
  return threads_.size();
}

void WorkPool::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (jobs_.empty()) {
      if (stopping_) return;
      ++idle_;
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      --idle_;
      continue;
    }
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

}  // namespace dfs::util
