// WriterFirstSharedMutex: a waiting writer holds back new readers (that it is a shared mutex
// at all is in util_shared_mutexes_test.cpp).

#include "util/writer_first_shared_mutex.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace dfs::util {
namespace {

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
  // The new reader is another thread (one thread trying a lock it holds proves nothing).
  bool held_back = false;
  std::thread reader([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!held_back && std::chrono::steady_clock::now() < deadline) {
      if (mu.try_lock_shared()) {
        mu.unlock_shared();
        std::this_thread::yield();
      } else {
        held_back = true;
      }
    }
  });
  reader.join();
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
