#pragma once
// Lets a log message through at most once per interval and counts the ones held back, for
// errors a client can cause at will (every WRITE to a full disk fails the same way), so that
// they cannot flood the log. Thread-safe, lock-free; one per message site.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace dfs::util {

class LogEvery {
 public:
  explicit LogEvery(std::chrono::milliseconds interval)
      : interval_ns_(std::chrono::nanoseconds(interval).count()) {}

  // True if this call should log; then `held_back` is how many calls since the last one that
  // logged did not.
  bool due(uint64_t& held_back) {
    const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
    int64_t next = next_ns_.load(std::memory_order_relaxed);
    if (now < next ||
        !next_ns_.compare_exchange_strong(next, now + interval_ns_, std::memory_order_relaxed)) {
      held_back_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    held_back = held_back_.exchange(0, std::memory_order_relaxed);
    return true;
  }

 private:
  const int64_t interval_ns_;
  std::atomic<int64_t> next_ns_{INT64_MIN};
  std::atomic<uint64_t> held_back_{0};
};

}  // namespace dfs::util
