// The project's shared mutexes are still shared mutexes (writers exclude everyone, readers
// only writers): SpinningSharedMutex whether a waiter got it while spinning or after falling
// back to sleeping, WriterFirstSharedMutex with its writer preference, ReaderSlotsSharedMutex
// with its per-thread reader counts.

#include "util/reader_slots_shared_mutex.h"
#include "util/spinning_shared_mutex.h"
#include "util/writer_first_shared_mutex.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

namespace dfs::util {
namespace {

template <class Mutex>
class SharedMutexes : public ::testing::Test {};
using Mutexes =
    ::testing::Types<SpinningSharedMutex, WriterFirstSharedMutex, ReaderSlotsSharedMutex>;
TYPED_TEST_SUITE(SharedMutexes, Mutexes);

TYPED_TEST(SharedMutexes, WritersExcludeEachOtherAndReaders) {
  TypeParam mu;
  // Two fields a writer changes together; a reader must never see them differ.
  uint64_t a = 0;
  uint64_t b = 0;
  std::atomic<int> torn{0};
  std::atomic<uint64_t> busy{0};
  constexpr int kWrites = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kWrites; ++i) {
        std::unique_lock lock(mu);
        ++a;
        // Long enough that the others find the lock taken, now and then long enough that
        // they stop spinning and sleep.
        const int work = i % 64 == 0 ? 20000 : 10;
        for (int k = 0; k < work; ++k)
          busy.fetch_add(1, std::memory_order_relaxed);
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
  EXPECT_EQ(a, 3u * kWrites);
  EXPECT_EQ(b, a);
  EXPECT_EQ(torn.load(), 0);
}

TYPED_TEST(SharedMutexes, ReadersShareAndTryLockRespectsThem) {
  TypeParam mu;
  // Each try runs on a thread of its own: trying a mutex the same thread holds is undefined.
  auto try_on_other_thread = [&](bool exclusive) {
    bool got = false;
    std::thread([&] {
      got = exclusive ? mu.try_lock() : mu.try_lock_shared();
      if (got) exclusive ? mu.unlock() : mu.unlock_shared();
    }).join();
    return got;
  };
  {
    std::shared_lock r1(mu);
    std::shared_lock r2(mu);  // a second reader does not wait
    EXPECT_FALSE(try_on_other_thread(true));
    EXPECT_TRUE(try_on_other_thread(false));
  }
  {
    std::unique_lock w(mu);
    EXPECT_FALSE(try_on_other_thread(true));
    EXPECT_FALSE(try_on_other_thread(false));
  }
  EXPECT_TRUE(try_on_other_thread(true));
}

}  // namespace
}  // namespace dfs::util
