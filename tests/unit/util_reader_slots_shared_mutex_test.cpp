// ReaderSlotsSharedMutex's own promises beyond a shared mutex's (util_shared_mutexes_test.cpp):
// readers first, so a thread may take it shared again while a writer waits, and a writer
// still gets in between readers that come and go.

#include "util/reader_slots_shared_mutex.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

namespace dfs::util {
namespace {

using Clock = std::chrono::steady_clock;

TEST(ReaderSlotsSharedMutex, AReaderTakesItAgainWhileAWriterWaits) {
  ReaderSlotsSharedMutex mu;
  mu.lock_shared();
  std::atomic<bool> writer_in{false};
  std::thread writer([&] {
    std::unique_lock lock(mu);
    writer_in = true;
  });
  // Wait (bounded) until the writer is seen trying: its flag turns a try away.
  bool writer_seen = false;
  for (auto end = Clock::now() + std::chrono::seconds(10); !writer_seen && Clock::now() < end;) {
    if (mu.try_lock_shared()) {
      mu.unlock_shared();
      std::this_thread::yield();
    } else {
      writer_seen = true;
    }
  }
  EXPECT_TRUE(writer_seen);
  // A writer-first lock would deadlock here: the writer waits for this thread's first hold,
  // this thread for the writer.
  mu.lock_shared();
  EXPECT_FALSE(writer_in.load());
  mu.unlock_shared();
  mu.unlock_shared();
  writer.join();
  EXPECT_TRUE(writer_in.load());
}

TEST(ReaderSlotsSharedMutex, WritersGetInBetweenReadersThatComeAndGo) {
  ReaderSlotsSharedMutex mu;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        std::shared_lock lock(mu);
        reads.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  // The readers are reading before the writers start.
  for (auto end = Clock::now() + std::chrono::seconds(10); reads.load() == 0 && Clock::now() < end;)
    std::this_thread::yield();
  ASSERT_GT(reads.load(), 0u);
  // Every writer gets the lock while they go on (a writer that never found the slots empty
  // would give way forever).
  constexpr int kWrites = 2000;
  int writes = 0;
  const auto start = Clock::now();
  for (int i = 0; i < kWrites; ++i) {
    std::unique_lock lock(mu);
    ++writes;
  }
  const auto took = Clock::now() - start;
  stop = true;
  for (auto& t : readers)
    t.join();
  EXPECT_EQ(writes, kWrites);
  EXPECT_LT(took, std::chrono::seconds(30));
}

TEST(ReaderSlotsSharedMutex, SlotsArePerCoreAndAPowerOfTwo) {
  const size_t n = ReaderSlotsSharedMutex::slot_count();
  EXPECT_GE(n, 1u);
  EXPECT_LE(n, 64u);
  EXPECT_EQ(n & (n - 1), 0u);
  EXPECT_GE(n, std::min<size_t>(64, std::max(1u, std::thread::hardware_concurrency())));
}

}  // namespace
}  // namespace dfs::util
