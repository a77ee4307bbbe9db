#include "util/reader_slots_shared_mutex.h"

#include <algorithm>
#include <chrono>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace dfs::util {
namespace {

// Pauses a reader spends looking for the writer to leave before it sleeps on the flag.
constexpr int kSpins = 64;
// How long a writer waits for the readers in flight (new ones wait for it meanwhile) before
// it gives way to them. Readers hold these locks from well under a microsecond (a stateid
// check) to some tens of microseconds (a WRITE copying into a file's chunks); one still
// there after this long is waiting for something else, perhaps for this very writer (a
// thread taking the lock shared a second time), so the writer must let it go on.
constexpr std::chrono::microseconds kDrainWait{1000};
// Rounds of giving way after which a writer sleeps between tries instead of yielding.
constexpr int kYieldRounds = 8;

void relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

}  // namespace

size_t ReaderSlotsSharedMutex::slot_count() {
  static const size_t n = std::min<size_t>(64, cell_count());
  return n;
}

ReaderSlotsSharedMutex::ReaderSlotsSharedMutex()
    : slots_(std::make_unique<Slot[]>(slot_count())), mask_(slot_count() - 1) {}

void ReaderSlotsSharedMutex::lock() {
  for (int round = 0;; ++round) {
    // The flag is the writers' mutex too: one writer at a time sets it.
    int spins = 0;
    for (uint32_t expected = 0; !writer_.compare_exchange_weak(
             expected, 1, std::memory_order_seq_cst, std::memory_order_relaxed);
         expected = 0) {
      if (++spins < kSpins) {
        relax();
      } else {
        writer_.wait(1, std::memory_order_relaxed);
      }
    }
    if (readers_drained()) return;
    withdraw();
    if (round < kYieldRounds) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
}

bool ReaderSlotsSharedMutex::try_lock() {
  uint32_t expected = 0;
  if (!writer_.compare_exchange_strong(expected, 1, std::memory_order_seq_cst,
                                       std::memory_order_relaxed)) {
    return false;
  }
  for (size_t i = 0; i <= mask_; ++i) {
    if (slots_[i].readers.load(std::memory_order_seq_cst) != 0) {
      withdraw();
      return false;
    }
  }
  return true;
}

void ReaderSlotsSharedMutex::unlock() {
  withdraw();
}

void ReaderSlotsSharedMutex::withdraw() {
  writer_.store(0, std::memory_order_release);
  writer_.notify_all();
}

bool ReaderSlotsSharedMutex::readers_drained() const {
  std::chrono::steady_clock::time_point deadline{};  // read from the clock only if needed
  for (size_t i = 0; i <= mask_; ++i) {
    for (int pauses = 0; slots_[i].readers.load(std::memory_order_seq_cst) != 0; ++pauses) {
      if (pauses < kSpins) {
        relax();
        continue;
      }
      const auto now = std::chrono::steady_clock::now();
      if (deadline == std::chrono::steady_clock::time_point{}) {
        deadline = now + kDrainWait;
      } else if (now >= deadline) {
        return false;
      }
      std::this_thread::yield();
    }
  }
  return true;
}

void ReaderSlotsSharedMutex::wait_for_no_writer() {
  for (int i = 0; i < kSpins; ++i) {
    if (writer_.load(std::memory_order_acquire) == 0) return;
    relax();
  }
  while (writer_.load(std::memory_order_acquire) != 0)
    writer_.wait(1, std::memory_order_acquire);
}

}  // namespace dfs::util
