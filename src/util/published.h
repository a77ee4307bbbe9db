#pragma once
// A value that is read on every request and replaced rarely (settings, the share table),
// readable without writing memory that other threads read.
//
// Why not std::atomic<std::shared_ptr<const T>>: libstdc++ implements its load with a lock
// bit in the pointer and a reference-count increment on the value's one control block, so
// every reader on every core writes the same two cache lines; on a many-core server readers
// queue behind each other (measured: bench/contention, docs/performance.md).
//
// Here each thread keeps its own handle to the current value, with a control block of its
// own; copying it (as a request does) touches only that thread's memory. Readers check one
// version word, which is written only when a new value is published.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace dfs::util {

template <class T>
class Published {
 public:
  // `localize`, if given, makes each thread's copy of a published value (for values that
  // themselves hold shared pointers readers copy, so those copies stay thread-private too);
  // without it a thread shares the published value through a handle of its own.
  explicit Published(T initial, std::function<T(const T&)> localize = nullptr)
      : id_(next_id()),
        localize_(std::move(localize)),
        current_(std::make_shared<const T>(std::move(initial))) {}
  Published(const Published&) = delete;
  Published& operator=(const Published&) = delete;

  // The current value, through the calling thread's own handle.
  std::shared_ptr<const T> get() const {
    const uint64_t v = version_.load(std::memory_order_acquire);
    auto& cache = thread_cache();
    for (auto& e : cache) {
      if (e.holder == id_) {
        if (e.version != v) refresh(e);
        return e.local;
      }
    }
    // Bounded: a thread remembers the holders it used last (tests make many).
    if (cache.size() >= kMaxCachedHolders) cache.erase(cache.begin());
    cache.push_back(Entry{id_, 0, nullptr});
    refresh(cache.back());
    return cache.back().local;
  }

  // The current value through the shared handle (for rare readers that keep it long).
  std::shared_ptr<const T> get_shared() const {
    std::lock_guard lock(mu_);
    return current_;
  }

  // Publishes a new value; threads pick it up at their next get().
  void set(T value) {
    auto fresh = std::make_shared<const T>(std::move(value));
    std::lock_guard lock(mu_);
    current_ = std::move(fresh);
    version_.fetch_add(1, std::memory_order_release);
  }

 private:
  static constexpr size_t kMaxCachedHolders = 16;
  struct Entry {
    uint64_t holder = 0;
    uint64_t version = 0;
    std::shared_ptr<const T> local;
  };
  static std::vector<Entry>& thread_cache() {
    thread_local std::vector<Entry> cache;
    return cache;
  }
  static uint64_t next_id() {
    static std::atomic<uint64_t> n{1};
    return n.fetch_add(1, std::memory_order_relaxed);
  }
  void refresh(Entry& e) const {
    std::shared_ptr<const T> global;
    {
      std::lock_guard lock(mu_);
      global = current_;
      e.version = version_.load(std::memory_order_relaxed);
    }
    if (localize_) {
      e.local = std::make_shared<const T>(localize_(*global));
    } else {
      // A handle with its own control block that keeps the published value alive.
      const T* raw = global.get();
      e.local = std::shared_ptr<const T>(raw, [keep = std::move(global)](const T*) {});
    }
  }

  const uint64_t id_;
  const std::function<T(const T&)> localize_;
  mutable std::mutex mu_;
  std::shared_ptr<const T> current_;
  std::atomic<uint64_t> version_{1};
};

}  // namespace dfs::util
