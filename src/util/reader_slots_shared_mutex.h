#pragma once
// A shared mutex whose shared lockers write only a cache line of their own thread's.
//
// Why: any other shared mutex keeps one count of its readers, and every lock_shared and
// unlock_shared writes it. Where readers on many cores take one lock for a few nanoseconds
// each (sixteen clients reading one file, each READ checking its stateid under the file's
// state shard), the cores take turns owning that one cache line, and more cores make each
// read slower. Here each thread counts itself in its own slot (util::this_cell(), padded to a
// cache line), so readers on different cores never write the same line; an exclusive locker
// pays instead, by reading every slot. Use it where shared locking is the hot path and
// exclusive locking is rare or costs far more anyway (OPEN, CLOSE, creating a session).
//
// How (a Dekker-style handshake, sequentially consistent on both sides): a reader adds one to
// its slot, then looks at the writer flag; a writer sets the flag, then looks at every slot.
// One of the two always sees the other. A reader that sees the flag takes its count back and
// waits until the flag is clear.
//
// Readers first, as glibc's default rwlock (std::shared_mutex) is: a writer that still finds
// readers after a bounded wait (a millisecond) clears its flag, lets them in, and tries
// again. So a thread may take the lock shared while it already holds it shared (a writer
// never waits for it forever), and a writer can wait as long as readers keep overlapping
// without a gap.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "util/cells.h"

namespace dfs::util {

class ReaderSlotsSharedMutex {
 public:
  ReaderSlotsSharedMutex();
  ReaderSlotsSharedMutex(const ReaderSlotsSharedMutex&) = delete;
  ReaderSlotsSharedMutex& operator=(const ReaderSlotsSharedMutex&) = delete;

  void lock();
  bool try_lock();
  void unlock();

  void lock_shared() {
    while (!try_lock_shared())
      wait_for_no_writer();
  }
  bool try_lock_shared() {
    std::atomic<uint32_t>& mine = my_readers();
    mine.fetch_add(1, std::memory_order_seq_cst);
    if (writer_.load(std::memory_order_seq_cst) == 0) [[likely]]
      return true;
    mine.fetch_sub(1, std::memory_order_seq_cst);
    return false;
  }
  void unlock_shared() { my_readers().fetch_sub(1, std::memory_order_release); }

  // Slots per mutex: cell_count() (twice the CPUs, a power of two) at most 64, so on a
  // server with more cores than that, some reactors share a slot.
  static size_t slot_count();

 private:
  struct alignas(kCacheLine) Slot {
    std::atomic<uint32_t> readers{0};
  };

  // The calling thread's reader count.
  std::atomic<uint32_t>& my_readers() { return slots_[this_cell() & mask_].readers; }
  void wait_for_no_writer();
  // With the flag set: waits up to kDrainWait for every slot to empty; false if one did not.
  bool readers_drained() const;
  void withdraw();

  std::unique_ptr<Slot[]> slots_;
  size_t mask_;
  // 1 while a writer holds the lock or is waiting for the readers to leave. Only writers
  // write it; readers only read it, so it stays in every reader's cache.
  std::atomic<uint32_t> writer_{0};
};

}  // namespace dfs::util
