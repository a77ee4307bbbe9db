// WriterFirstSharedMutex: a shared mutex (writers exclude everyone, readers only writers)
// under which a waiting writer holds back new readers.

#include "util/writer_first_shared_mutex.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

namespace dfs::util {
namespace {

TEST(WriterFirstSharedMutex, ReadersShareAndWritersExcludeEveryone) {
  WriterFirstSharedMutex mu;
  uint64_t a = 0;
  uint64_t b = 0;
  std::atomic<int> torn{0};
  constexpr int kWrites = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kWrites; ++i) {
        std::unique_lock lock(mu);
        ++a;
        ++b;
      }
    });
  }
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kWrites; ++i) {
        std::shared_lock lock(mu);
        if (a != b) torn.fetch_add(1);
      }
    });
  }
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(a, 2u * kWrites);
  EXPECT_EQ(b, 2u * kWrites);
  EXPECT_EQ(torn.load(), 0);
  // Two readers at once.
  std::shared_lock first(mu);
  EXPECT_TRUE(mu.try_lock_shared());
  mu.unlock_shared();
  EXPECT_FALSE(mu.try_lock());
}

// While a reader holds it and a writer waits, a new reader does not get in (with
// std::shared_mutex it would, and a stream of readers could keep the writer out for ever);
// once the reader leaves, the writer gets it.
TEST(WriterFirstSharedMutex, AWaitingWriterHoldsBackNewReaders) {
  WriterFirstSharedMutex mu;
  mu.lock_shared();
  std::atomic<bool> written{false};
  std::thread writer([&] {
    std::unique_lock lock(mu);
    written = true;
  });
  // The writer queues at some point after it starts; from then on new readers are refused.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool held_back = false;
  while (!held_back && std::chrono::steady_clock::now() < deadline) {
    if (mu.try_lock_shared()) {
      mu.unlock_shared();
      std::this_thread::yield();
    } else {
      held_back = true;
    }
  }
  EXPECT_TRUE(held_back) << "a new reader got in while a writer waited, for 10 s";
  EXPECT_FALSE(written.load());
  mu.unlock_shared();
  writer.join();
  EXPECT_TRUE(written.load());
  EXPECT_TRUE(mu.try_lock_shared());
  mu.unlock_shared();
}

}  // namespace
}  // namespace dfs::util
