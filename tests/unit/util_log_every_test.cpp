// LogEvery: one message per interval, the rest counted and reported with the next one.

#include "util/log_every.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace dfs::util {
namespace {

TEST(LogEvery, TheFirstCallLogsAndTheRestOfTheIntervalIsCounted) {
  LogEvery every(std::chrono::hours(1));
  uint64_t held = 99;
  EXPECT_TRUE(every.due(held));
  EXPECT_EQ(held, 0u);
  for (int i = 0; i < 100; ++i)
    EXPECT_FALSE(every.due(held));
}

TEST(LogEvery, AnElapsedIntervalLogsAgainWithTheCountHeldBack) {
  LogEvery every(std::chrono::milliseconds(0));  // every interval has elapsed at once
  uint64_t held = 99;
  EXPECT_TRUE(every.due(held));
  EXPECT_EQ(held, 0u);
  EXPECT_TRUE(every.due(held));
  EXPECT_EQ(held, 0u);
}

TEST(LogEvery, ConcurrentCallersLetOneMessageThroughPerInterval) {
  LogEvery every(std::chrono::hours(1));
  std::atomic<int> logged{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      uint64_t held = 0;
      for (int i = 0; i < 1000; ++i)
        if (every.due(held)) logged.fetch_add(1);
    });
  }
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(logged.load(), 1);
}

}  // namespace
}  // namespace dfs::util
