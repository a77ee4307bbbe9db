#pragma once
// A shared mutex that spins briefly before it sleeps.
//
// Why: glibc's rwlock puts a thread that finds the lock taken to sleep at once (futex), and
// waking it costs two context switches, several microseconds. The locks this wraps are held
// for well under a microsecond by a thread that is running on another core (one reactor per
// core), so retrying for a bounded time usually gets the lock long before a sleep would have
// ended. The spin is bounded (kSpins tries with a pause each: from a fraction of a
// microsecond to a few, depending on the CPU's pause latency) so a holder that was
// descheduled costs the waiter little before it falls back to sleeping.

#include <shared_mutex>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace dfs::util {

class SpinningSharedMutex {
 public:
  static constexpr int kSpins = 64;

  void lock() {
    acquire([this] { return mu_.try_lock(); }, [this] { mu_.lock(); });
  }
  bool try_lock() { return mu_.try_lock(); }
  void unlock() { mu_.unlock(); }

  void lock_shared() {
    acquire([this] { return mu_.try_lock_shared(); }, [this] { mu_.lock_shared(); });
  }
  bool try_lock_shared() { return mu_.try_lock_shared(); }
  void unlock_shared() { mu_.unlock_shared(); }

 private:
  template <class TryOnce, class Block>
  static void acquire(TryOnce&& try_once, Block&& block) {
    for (int i = 0; i < kSpins; ++i) {
      if (try_once()) return;
      relax();
    }
    block();
  }
  static void relax() {
#if defined(__x86_64__) || defined(__i386__)
    // Tells the core this is a spin-wait: less power, and the sibling hyperthread runs.
    _mm_pause();
#endif
  }

  std::shared_mutex mu_;
};

}  // namespace dfs::util
