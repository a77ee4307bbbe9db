#include "vfs/block/memory_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <numeric>
#include <thread>
#include <vector>

namespace dfs::vfs {
namespace {

constexpr size_t kChunk = MemoryBlockStore::kChunkSize;

std::vector<uint8_t> flatten(const ReadBuffer& b) {
  std::vector<uint8_t> out;
  for (const auto& p : b.pieces)
    out.insert(out.end(), p.bytes.begin(), p.bytes.end());
  return out;
}

std::vector<uint8_t> read_all(MemoryBlockStore& s, InodeId id, uint64_t off, size_t len) {
  ReadBuffer b;
  EXPECT_EQ(s.read(id, off, len, b), Status::kOk);
  EXPECT_EQ(b.size(), len);
  for (const auto& p : b.pieces)
    EXPECT_NE(p.owner, nullptr);
  return flatten(b);
}

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

bool all_zero(const std::vector<uint8_t>& v) {
  return std::all_of(v.begin(), v.end(), [](uint8_t b) { return b == 0; });
}

TEST(VfsMemoryBlockStore, UnknownFileReadsZeros) {
  MemoryBlockStore s;
  auto v = read_all(s, 7, 123, 3 * kChunk + 5);
  EXPECT_EQ(v.size(), 3 * kChunk + 5);
  EXPECT_TRUE(all_zero(v));
  EXPECT_EQ(s.space_used(7), 0u);
  EXPECT_EQ(s.total_bytes_used(), 0u);
  ReadBuffer empty;
  EXPECT_EQ(s.read(7, 0, 0, empty), Status::kOk);
  EXPECT_TRUE(empty.pieces.empty());
}

TEST(VfsMemoryBlockStore, WriteReadRoundTripAcrossChunks) {
  MemoryBlockStore s;
  auto data = pattern(2 * kChunk + 1000, 1);
  const uint64_t off = kChunk - 300;  // straddles three chunk boundaries
  ASSERT_EQ(s.write(1, off, data), Status::kOk);
  EXPECT_EQ(read_all(s, 1, off, data.size()), data);
  // Before the write: zeros; a read spanning the start sees zeros then data.
  auto head = read_all(s, 1, off - 10, 20);
  EXPECT_TRUE(all_zero({head.begin(), head.begin() + 10}));
  EXPECT_EQ(std::vector<uint8_t>(head.begin() + 10, head.end()),
            std::vector<uint8_t>(data.begin(), data.begin() + 10));
}

TEST(VfsMemoryBlockStore, HolesReadZeroAndShareTheZeroChunk) {
  MemoryBlockStore s;
  auto a = pattern(100, 3);
  ASSERT_EQ(s.write(1, 0, a), Status::kOk);
  ASSERT_EQ(s.write(1, 5 * kChunk, a), Status::kOk);
  ReadBuffer b;
  ASSERT_EQ(s.read(1, 0, 5 * kChunk + 100, b), Status::kOk);
  auto v = flatten(b);
  ASSERT_EQ(v.size(), 5 * kChunk + 100);
  EXPECT_TRUE(std::equal(a.begin(), a.end(), v.begin()));
  EXPECT_TRUE(all_zero({v.begin() + 100, v.begin() + 5 * kChunk}));
  EXPECT_TRUE(std::equal(a.begin(), a.end(), v.begin() + 5 * kChunk));
  // Hole pieces point into the shared zero buffer.
  size_t zero_pieces = 0;
  for (const auto& p : b.pieces) {
    if (p.owner == MemoryBlockStore::zero_chunk()) {
      ++zero_pieces;
      EXPECT_LE(p.bytes.size(), kChunk);
    }
  }
  EXPECT_GE(zero_pieces, 4u);
  // Only the two written chunks take space, and only their written prefix (small files
  // cost little).
  EXPECT_EQ(s.space_used(1), 2 * MemoryBlockStore::kMinChunkCapacity);
  EXPECT_EQ(s.total_bytes_used(), s.space_used(1));
}

TEST(VfsMemoryBlockStore, ReadsAreZeroCopyReferences) {
  MemoryBlockStore s;
  auto a = pattern(1000, 9);
  ASSERT_EQ(s.write(1, 0, a), Status::kOk);
  ReadBuffer b1, b2;
  ASSERT_EQ(s.read(1, 0, 1000, b1), Status::kOk);
  ASSERT_EQ(s.read(1, 0, 1000, b2), Status::kOk);
  ASSERT_EQ(b1.pieces.size(), 1u);
  // Two reads of unchanged data reference the same bytes.
  EXPECT_EQ(b1.pieces[0].bytes.data(), b2.pieces[0].bytes.data());
  EXPECT_EQ(b1.pieces[0].owner, b2.pieces[0].owner);
}

TEST(VfsMemoryBlockStore, CopyOnWriteKeepsInFlightReadsUnchanged) {
  MemoryBlockStore s;
  auto before = pattern(kChunk, 1);
  ASSERT_EQ(s.write(1, 0, before), Status::kOk);
  ReadBuffer held;
  ASSERT_EQ(s.read(1, 0, kChunk, held), Status::kOk);

  auto after = pattern(4096, 200);
  ASSERT_EQ(s.write(1, 100, after), Status::kOk);
  // The reply taken before the write still shows the old bytes...
  EXPECT_EQ(flatten(held), before);
  // ...and a new read shows the new ones.
  auto now_bytes = read_all(s, 1, 0, kChunk);
  EXPECT_TRUE(std::equal(after.begin(), after.end(), now_bytes.begin() + 100));
  EXPECT_TRUE(std::equal(before.begin(), before.begin() + 100, now_bytes.begin()));
  EXPECT_TRUE(
      std::equal(before.begin() + 100 + 4096, before.end(), now_bytes.begin() + 100 + 4096));
  // The clone replaced the chunk: accounting still counts one chunk.
  EXPECT_EQ(s.space_used(1), kChunk);

  // Without a reader holding it, the chunk is modified in place (no new buffer).
  if (!MemoryBlockStore::kInPlaceWrites) GTEST_SKIP() << "copy on every write (TSan build)";
  ReadBuffer r1;
  ASSERT_EQ(s.read(1, 0, 10, r1), Status::kOk);
  const uint8_t* where = r1.pieces[0].bytes.data();
  r1.pieces.clear();
  ASSERT_EQ(s.write(1, 0, pattern(10, 50)), Status::kOk);
  ReadBuffer r2;
  ASSERT_EQ(s.read(1, 0, 10, r2), Status::kOk);
  EXPECT_EQ(r2.pieces[0].bytes.data(), where);
}

TEST(VfsMemoryBlockStore, TruncateDropsDataAndExtensionReadsZeros) {
  MemoryBlockStore s;
  auto data = pattern(3 * kChunk, 5);
  ASSERT_EQ(s.write(1, 0, data), Status::kOk);
  EXPECT_EQ(s.space_used(1), 3 * kChunk);
  ASSERT_EQ(s.truncate(1, kChunk + 10), Status::kOk);
  if (MemoryBlockStore::kInPlaceWrites) {
    EXPECT_EQ(s.space_used(1), 2 * kChunk);  // the partial chunk is zeroed in place
  }
  auto v = read_all(s, 1, 0, 3 * kChunk);
  EXPECT_TRUE(std::equal(data.begin(), data.begin() + kChunk + 10, v.begin()));
  EXPECT_TRUE(all_zero({v.begin() + kChunk + 10, v.end()}));

  ASSERT_EQ(s.truncate(1, kChunk), Status::kOk);  // exactly on a boundary
  EXPECT_EQ(s.space_used(1), kChunk);
  ASSERT_EQ(s.truncate(1, 0), Status::kOk);
  EXPECT_EQ(s.space_used(1), 0u);
  EXPECT_TRUE(all_zero(read_all(s, 1, 0, kChunk)));
  EXPECT_EQ(s.truncate(99, 10), Status::kOk);  // unknown file: nothing to drop
}

TEST(VfsMemoryBlockStore, TruncateWhileReadHeldDoesNotChangeTheRead) {
  MemoryBlockStore s;
  auto data = pattern(8192, 11);
  ASSERT_EQ(s.write(1, 0, data), Status::kOk);
  ReadBuffer held;
  ASSERT_EQ(s.read(1, 0, 8192, held), Status::kOk);
  ASSERT_EQ(s.truncate(1, 100), Status::kOk);
  EXPECT_EQ(flatten(held), data);
  auto v = read_all(s, 1, 0, 8192);
  EXPECT_TRUE(std::equal(data.begin(), data.begin() + 100, v.begin()));
  EXPECT_TRUE(all_zero({v.begin() + 100, v.end()}));
}

TEST(VfsMemoryBlockStore, SmallChunksGrowAsWritten) {
  MemoryBlockStore s;
  ASSERT_EQ(s.write(1, 0, pattern(100, 1)), Status::kOk);
  EXPECT_EQ(s.space_used(1), MemoryBlockStore::kMinChunkCapacity);
  auto more = pattern(10000, 2);
  ASSERT_EQ(s.write(1, 100, more), Status::kOk);
  EXPECT_EQ(s.space_used(1), 16384u);
  auto v = read_all(s, 1, 0, 20000);
  EXPECT_EQ(std::vector<uint8_t>(v.begin(), v.begin() + 100), pattern(100, 1));
  EXPECT_TRUE(std::equal(more.begin(), more.end(), v.begin() + 100));
  EXPECT_TRUE(all_zero({v.begin() + 10100, v.end()}));
}

TEST(VfsMemoryBlockStore, RemoveFreesSpaceAndKeepsHeldReads) {
  MemoryBlockStore s;
  auto data = pattern(kChunk, 3);
  ASSERT_EQ(s.write(1, 0, data), Status::kOk);
  ASSERT_EQ(s.write(2, 0, data), Status::kOk);
  EXPECT_EQ(s.total_bytes_used(), 2 * kChunk);
  ReadBuffer held;
  ASSERT_EQ(s.read(1, 0, kChunk, held), Status::kOk);
  ASSERT_EQ(s.remove(1), Status::kOk);
  EXPECT_EQ(s.space_used(1), 0u);
  EXPECT_EQ(s.total_bytes_used(), kChunk);
  EXPECT_EQ(flatten(held), data);  // still alive through its owner
  EXPECT_TRUE(all_zero(read_all(s, 1, 0, 100)));
  EXPECT_EQ(s.remove(1), Status::kOk);  // idempotent
  EXPECT_EQ(s.sync(2), Status::kOk);
}

TEST(VfsMemoryBlockStore, FullChunksComeFromThePoolAndGoBackOnRemove) {
  MemoryBlockStore s(std::make_shared<ChunkPool>(ChunkPool::Options{}));
  auto data = pattern(4 * kChunk, 9);
  ASSERT_EQ(s.write(1, 0, data), Status::kOk);
  size_t mapped = s.chunk_pool().mapped_bytes();
  EXPECT_GE(mapped, 4 * kChunk);
  size_t free_before = s.chunk_pool().free_bytes();
  ASSERT_EQ(s.remove(1), Status::kOk);
  EXPECT_EQ(s.chunk_pool().free_bytes(), free_before + 4 * kChunk);
  // A new file reuses that memory: nothing more is mapped, and it reads what was written.
  auto other = pattern(4 * kChunk, 77);
  ASSERT_EQ(s.write(2, 0, other), Status::kOk);
  EXPECT_EQ(s.chunk_pool().mapped_bytes(), mapped);
  EXPECT_EQ(read_all(s, 2, 0, other.size()), other);
  // Small files do not take full chunks.
  ASSERT_EQ(s.write(3, 0, pattern(100, 1)), Status::kOk);
  EXPECT_EQ(s.chunk_pool().mapped_bytes(), mapped);
}

TEST(VfsMemoryBlockStore, ReadsHeldPastTheStoreStayValid) {
  ReadBuffer held;
  auto data = pattern(kChunk, 5);
  {
    MemoryBlockStore s;
    ASSERT_EQ(s.write(1, 0, data), Status::kOk);
    ASSERT_EQ(s.read(1, 0, kChunk, held), Status::kOk);
  }
  EXPECT_EQ(flatten(held), data);  // the pool lives until the last chunk is dropped
}

TEST(VfsMemoryBlockStore, StoresShareTheProcessPoolByDefault) {
  MemoryBlockStore a, b;
  EXPECT_EQ(&a.chunk_pool(), ChunkPool::process_pool().get());
  EXPECT_EQ(&b.chunk_pool(), ChunkPool::process_pool().get());
  EXPECT_THROW(
      MemoryBlockStore(std::make_shared<ChunkPool>(ChunkPool::Options{.chunk_size = 65536})),
      std::invalid_argument);
}

TEST(VfsMemoryBlockStore, RejectsOffsetOverflow) {
  MemoryBlockStore s;
  auto data = pattern(10, 1);
  EXPECT_EQ(s.write(1, UINT64_MAX - 5, data), Status::kFBig);
  EXPECT_EQ(s.write(1, 0, {}), Status::kOk);
  EXPECT_EQ(s.space_used(1), 0u);
}

TEST(VfsMemoryBlockStore, ConcurrentWritersAndReadersOnOneFile) {
  // Readers keep references while writers rewrite the same chunk: every read must see one
  // consistent fill value per 4 KiB block written in one piece (writes are whole blocks).
  MemoryBlockStore s;
  constexpr size_t kBlock = 4096;
  ASSERT_EQ(s.write(1, 0, std::vector<uint8_t>(kChunk, 0)), Status::kOk);
  std::atomic<bool> stop{false};
  std::atomic<size_t> torn{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < 300; ++i) {
        std::vector<uint8_t> block(kBlock, static_cast<uint8_t>(w * 100 + i % 100));
        EXPECT_EQ(s.write(1, (i % 8) * kBlock, block), Status::kOk);
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        ReadBuffer b;
        EXPECT_EQ(s.read(1, 0, 8 * kBlock, b), Status::kOk);
        auto v = flatten(b);
        for (size_t blk = 0; blk < 8; ++blk) {
          for (size_t i = 1; i < kBlock; ++i) {
            if (v[blk * kBlock + i] != v[blk * kBlock]) {
              ++torn;
              break;
            }
          }
        }
      }
    });
  }
  threads[0].join();
  threads[1].join();
  stop = true;
  threads[2].join();
  threads[3].join();
  EXPECT_EQ(torn.load(), 0u);
}

TEST(VfsMemoryBlockStore, ConcurrentChunkChangesInOneShardKeepBlocksWholeAndSpaceCounted) {
  // Three files of one shard (ids equal mod 64): new chunks, overwrites, truncation, and
  // remove-and-recreate on them at once, with readers. Every 4 KiB block holds either zeros
  // or the one pattern of its offset (writes and truncations are whole blocks), and the space
  // counted for the store is the sum of its files' afterwards.
  MemoryBlockStore s;
  constexpr size_t kBlock = 4096;
  constexpr uint64_t kBlocks = 2 * kChunk / kBlock;  // two chunks' worth per file
  const InodeId a = 1, b = 65, c = 129;
  auto block_of = [](uint64_t index) {
    return std::vector<uint8_t>(kBlock, static_cast<uint8_t>(1 + index % 251));
  };
  std::atomic<bool> stop{false};
  std::atomic<size_t> bad{0};
  std::vector<std::thread> threads;
  // Writers: blocks at spread offsets, each into a new or an existing chunk.
  for (InodeId id : {a, b}) {
    threads.emplace_back([&, id] {
      for (uint64_t i = 0; i < 600; ++i) {
        const uint64_t index = (i * 37) % kBlocks;
        EXPECT_EQ(s.write(id, index * kBlock, block_of(index)), Status::kOk);
      }
    });
  }
  // Truncation of b to whole blocks, shrinking and growing.
  threads.emplace_back([&] {
    for (uint64_t i = 0; i < 200; ++i)
      EXPECT_EQ(s.truncate(b, ((i * 13) % kBlocks) * kBlock), Status::kOk);
  });
  // c removed and written again.
  threads.emplace_back([&] {
    for (uint64_t i = 0; i < 200; ++i) {
      const uint64_t index = (i * 11) % kBlocks;
      EXPECT_EQ(s.write(c, index * kBlock, block_of(index)), Status::kOk);
      if (i % 3 == 0) {
        EXPECT_EQ(s.remove(c), Status::kOk);
      }
    }
  });
  const size_t writers = threads.size();
  for (InodeId id : {a, b, c}) {
    threads.emplace_back([&, id] {
      while (!stop.load()) {
        ReadBuffer buf;
        EXPECT_EQ(s.read(id, 0, kBlocks * kBlock, buf), Status::kOk);
        auto v = flatten(buf);
        for (uint64_t index = 0; index < kBlocks; ++index) {
          std::vector<uint8_t> got(v.begin() + static_cast<long>(index * kBlock),
                                   v.begin() + static_cast<long>((index + 1) * kBlock));
          if (!all_zero(got) && got != block_of(index)) ++bad;
        }
      }
    });
  }
  for (size_t t = 0; t < writers; ++t)
    threads[t].join();
  stop = true;
  for (size_t t = writers; t < threads.size(); ++t)
    threads[t].join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_EQ(s.total_bytes_used(), s.space_used(a) + s.space_used(b) + s.space_used(c));
  EXPECT_GT(s.space_used(a), 0u);
}

}  // namespace
}  // namespace dfs::vfs
