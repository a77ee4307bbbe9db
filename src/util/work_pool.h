#pragma once
// Threads for work that may block (disk syncs), so that reactors never do. Threads start on
// demand, up to a bound, and stay until the pool is destroyed; the destructor runs what is
// still queued, then joins. Jobs are expected to be few and slow (one per stable request,
// not one per operation), so one queue under one mutex is enough.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dfs::util {

class WorkPool {
 public:
  explicit WorkPool(size_t max_threads);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  void post(std::function<void()> job);
  size_t threads() const;

 private:
  void run();

  const size_t max_threads_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace dfs::util
