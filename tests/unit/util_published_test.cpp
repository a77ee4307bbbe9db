// util::Published (a value read per request through per-thread handles) and util cells
// (per-thread counter lines summed on read), under concurrent readers and writers.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "metrics/registry.h"
#include "util/cells.h"
#include "util/published.h"

namespace dfs::util {
namespace {

struct Pair {
  int a = 0;
  int b = 0;  // always -a: a torn read would show a mismatch
};

TEST(Published, ReadersSeeWholeValuesAndTheLatestOneAfterASet) {
  Published<Pair> p(Pair{0, 0});
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0}, went_back{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      int last = 0;
      while (!stop.load()) {
        auto v = p.get();
        if (v->a != -v->b) torn++;
        if (v->a < last) went_back++;  // versions only move forward for one reader
        last = v->a;
      }
    });
  }
  for (int i = 1; i <= 2000; ++i)
    p.set(Pair{i, -i});
  stop = true;
  for (auto& t : readers)
    t.join();
  EXPECT_EQ(torn, 0);
  EXPECT_EQ(went_back, 0);
  // A thread that reads after the last set sees it.
  std::thread([&] { EXPECT_EQ(p.get()->a, 2000); }).join();
  EXPECT_EQ(p.get()->a, 2000);
}

TEST(Published, HandlesAreThreadPrivateAndKeepTheirValueAlive) {
  auto counted = std::make_shared<int>(7);
  Published<std::shared_ptr<int>> p(counted);
  EXPECT_EQ(counted.use_count(), 2);  // ours and the published value's
  std::shared_ptr<const std::shared_ptr<int>> held;
  std::thread([&] { held = p.get(); }).join();
  // Replacing the value does not free the old one while a handle to it is held.
  p.set(std::make_shared<int>(8));
  EXPECT_EQ(**held, 7);
  EXPECT_EQ(*p.get_shared()->get(), 8);
  held.reset();
  EXPECT_EQ(**p.get(), 8);
}

TEST(Published, LocalizeMakesEachThreadsCopy) {
  std::atomic<int> copies{0};
  Published<int> p(5, [&](const int& v) {
    copies++;
    return v * 10;
  });
  EXPECT_EQ(*p.get(), 50);
  EXPECT_EQ(*p.get(), 50);
  EXPECT_EQ(copies, 1);  // once per thread and version
  std::thread([&] { EXPECT_EQ(*p.get(), 50); }).join();
  EXPECT_EQ(copies, 2);
  p.set(6);
  EXPECT_EQ(*p.get(), 60);
  EXPECT_EQ(copies, 3);
}

TEST(Cells, CountersSumEveryThreadsAdds) {
  metrics::Counter c;
  const std::vector<double> bounds{1.0, 2.0};  // the histogram keeps a view of them
  metrics::Histogram h(bounds);
  std::vector<std::thread> threads;
  const int n = static_cast<int>(cell_count()) + 3;  // more threads than cells: some share
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&] {
      EXPECT_LT(this_cell(), cell_count());
      for (int i = 0; i < 10000; ++i) {
        c.inc();
        h.observe(1.5);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(c.value(), static_cast<uint64_t>(n) * 10000);
  auto s = h.snapshot();
  EXPECT_EQ(s.count, static_cast<uint64_t>(n) * 10000);
  EXPECT_EQ(s.cumulative[0], 0u);
  EXPECT_EQ(s.cumulative[1], s.count);
  EXPECT_DOUBLE_EQ(s.sum, 1.5 * n * 10000);
}

}  // namespace
}  // namespace dfs::util
