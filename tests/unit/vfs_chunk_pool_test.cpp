#include "vfs/block/chunk_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace dfs::vfs {
namespace {

using namespace std::chrono_literals;

constexpr size_t kChunk = 256 * 1024;
constexpr size_t kPerRegion = ChunkPool::kRegionSize / kChunk;

ChunkPool::Options options(size_t max_idle = size_t{1} << 30,
                           ChunkPool::Clock::duration decay = std::chrono::hours(1)) {
  return {.chunk_size = kChunk, .max_idle_bytes = max_idle, .decay = decay};
}

std::vector<uint8_t*> take(ChunkPool& pool, size_t n) {
  std::vector<uint8_t*> out;
  for (size_t i = 0; i < n; ++i)
    out.push_back(pool.acquire());
  return out;
}

void give_back(ChunkPool& pool, const std::vector<uint8_t*>& chunks) {
  for (auto* c : chunks)
    pool.release(c);
}

TEST(VfsChunkPool, ChunksAreDistinctAlignedAndWritable) {
  ChunkPool pool(options());
  auto chunks = take(pool, 3 * kPerRegion + 1);
  std::set<uint8_t*> distinct(chunks.begin(), chunks.end());
  EXPECT_EQ(distinct.size(), chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(chunks[i]) % kChunk, 0u);
    std::memset(chunks[i], static_cast<int>(i), kChunk);
  }
  // No chunk overlaps another: each still holds its own fill.
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i][0], static_cast<uint8_t>(i));
    EXPECT_EQ(chunks[i][kChunk - 1], static_cast<uint8_t>(i));
  }
  EXPECT_EQ(pool.mapped_bytes(), 4 * ChunkPool::kRegionSize);
  EXPECT_EQ(pool.free_bytes(), (kPerRegion - 1) * kChunk);
  give_back(pool, chunks);
}

TEST(VfsChunkPool, ReleasedChunksAreReusedWithoutMappingMore) {
  ChunkPool pool(options());
  auto first = take(pool, 2 * kPerRegion);
  EXPECT_EQ(pool.mapped_bytes(), 2 * ChunkPool::kRegionSize);
  give_back(pool, first);
  EXPECT_EQ(pool.free_bytes(), 2 * ChunkPool::kRegionSize);
  EXPECT_EQ(pool.mapped_bytes(), 2 * ChunkPool::kRegionSize);  // kept for reuse
  auto second = take(pool, 2 * kPerRegion);
  EXPECT_EQ(pool.mapped_bytes(), 2 * ChunkPool::kRegionSize);
  std::set<uint8_t*> before(first.begin(), first.end());
  for (auto* c : second)
    EXPECT_TRUE(before.count(c));
  EXPECT_EQ(pool.free_bytes(), 0u);
  give_back(pool, second);
}

TEST(VfsChunkPool, TrimUnmapsOnlyRegionsIdleForTheDecay) {
  ChunkPool pool(options(size_t{1} << 30, 10s));
  auto a = take(pool, kPerRegion);
  auto b = take(pool, kPerRegion);
  give_back(pool, a);      // region of a: wholly free
  pool.release(b.back());  // region of b: one chunk free, the rest held
  auto now = ChunkPool::Clock::now();
  EXPECT_EQ(pool.trim(now), 0u);        // not idle long enough
  EXPECT_EQ(pool.trim(now + 11s), 1u);  // a's region goes
  EXPECT_EQ(pool.mapped_bytes(), ChunkPool::kRegionSize);
  EXPECT_EQ(pool.trim(now + 1h), 0u);  // b's region is in use
  b.pop_back();
  give_back(pool, b);
  EXPECT_EQ(pool.trim(ChunkPool::Clock::now() + 11s), 1u);
  EXPECT_EQ(pool.mapped_bytes(), 0u);
  EXPECT_EQ(pool.free_bytes(), 0u);
}

TEST(VfsChunkPool, IdleRegionsBeyondTheBudgetAreUnmappedAtOnce) {
  ChunkPool pool(options(ChunkPool::kRegionSize));  // keep at most one idle region
  auto chunks = take(pool, 3 * kPerRegion);
  give_back(pool, chunks);
  EXPECT_EQ(pool.mapped_bytes(), ChunkPool::kRegionSize);
  EXPECT_EQ(pool.free_bytes(), ChunkPool::kRegionSize);
  // The kept region serves the next requests; more regions are mapped once it is used up.
  auto again = take(pool, kPerRegion + 1);
  EXPECT_EQ(pool.mapped_bytes(), 2 * ChunkPool::kRegionSize);
  give_back(pool, again);
}

TEST(VfsChunkPool, BackgroundThreadReturnsIdleMemory) {
  ChunkPool pool(options(size_t{1} << 30, 20ms));
  give_back(pool, take(pool, kPerRegion));
  auto deadline = ChunkPool::Clock::now() + 10s;
  while (pool.mapped_bytes() != 0 && ChunkPool::Clock::now() < deadline)
    std::this_thread::sleep_for(5ms);  // polling a condition, bounded by the deadline
  EXPECT_EQ(pool.mapped_bytes(), 0u);
}

#if defined(__SANITIZE_ADDRESS__)
TEST(VfsChunkPoolDeathTest, UseAfterReleaseIsCaughtUnderAddressSanitizer) {
  // The pool maps its own memory, so it poisons free chunks for AddressSanitizer to see.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        ChunkPool pool(options());
        uint8_t* c = pool.acquire();
        pool.release(c);
        volatile uint8_t b = c[10];
        (void)b;
      },
      "use-after-poison");
}
#endif

TEST(VfsChunkPool, ConcurrentUseWhileTrimmingKeepsChunksPrivateAndCountsRight) {
  // Small idle budget and zero decay, so regions are unmapped and mapped again all the time
  // while other threads hold chunks from them.
  ChunkPool pool(options(2 * ChunkPool::kRegionSize, 0s));
  std::atomic<bool> stop{false};
  std::atomic<int> corrupted{0};
  std::thread trimmer([&] {
    while (!stop.load())
      pool.trim(ChunkPool::Clock::now());
  });
  std::vector<std::thread> users;
  for (int t = 0; t < 4; ++t) {
    users.emplace_back([&, t] {
      std::vector<std::pair<uint8_t*, uint8_t>> held;  // chunk, the byte it was filled with
      for (int i = 0; i < 400; ++i) {
        uint8_t* c = pool.acquire();
        auto mark = static_cast<uint8_t>(t * 50 + i % 50);
        std::memset(c, mark, kChunk);
        held.emplace_back(c, mark);
        if (held.size() > 6) {  // release the oldest after checking nobody wrote into it
          auto [old, old_mark] = held.front();
          for (size_t at : {size_t{0}, kChunk / 2, kChunk - 1})
            if (old[at] != old_mark) ++corrupted;
          pool.release(old);
          held.erase(held.begin());
        }
      }
      for (auto [c, mark] : held)
        pool.release(c);
    });
  }
  for (auto& u : users)
    u.join();
  stop = true;
  trimmer.join();
  EXPECT_EQ(corrupted.load(), 0);
  EXPECT_EQ(pool.free_bytes(), pool.mapped_bytes());  // everything is back
  EXPECT_LE(pool.mapped_bytes(), 2 * ChunkPool::kRegionSize);
}

TEST(VfsChunkPool, ChunkSizeMustDivideTheRegion) {
  EXPECT_THROW(ChunkPool({.chunk_size = 3000}), std::invalid_argument);
  EXPECT_THROW(ChunkPool({.chunk_size = 0}), std::invalid_argument);
  EXPECT_THROW(ChunkPool({.chunk_size = 4096}), std::invalid_argument);  // 512 per region
  EXPECT_NO_THROW(ChunkPool({.chunk_size = ChunkPool::kRegionSize}));
}

}  // namespace
}  // namespace dfs::vfs
