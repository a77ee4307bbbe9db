// One suite for the BlockStore interface, run against every implementation (memory and local
// file system); the durable stores also get the tests that open them again.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "vfs/block/fs_store.h"
#include "vfs/block/memory_store.h"

namespace dfs::vfs {
namespace {

// Crosses the memory store's chunk boundary and a page boundary.
constexpr size_t kSpan = 256 * 1024;

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

bool all_zero(const std::vector<uint8_t>& v) {
  return std::all_of(v.begin(), v.end(), [](uint8_t b) { return b == 0; });
}

class BlockStoreConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() != "memory") {
      std::string tmpl = std::filesystem::temp_directory_path() / "dfs-blocks.XXXXXX";
      dir_ = ::mkdtemp(tmpl.data());
    }
    store_ = open();
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<BlockStore> open() {
    if (GetParam() == "memory") return std::make_unique<MemoryBlockStore>();
    return std::make_unique<FsBlockStore>(dir_ + "/blocks");
  }
  BlockStore& store() { return *store_; }
  BlockStore& reopen() {
    store_.reset();
    store_ = open();
    return *store_;
  }
  std::vector<uint8_t> read(InodeId id, uint64_t off, size_t len) {
    ReadBuffer b;
    EXPECT_EQ(store_->read(id, off, len, b), Status::kOk);
    EXPECT_EQ(b.size(), len);
    std::vector<uint8_t> out;
    for (const auto& p : b.pieces) {
      EXPECT_NE(p.owner, nullptr);
      out.insert(out.end(), p.bytes.begin(), p.bytes.end());
    }
    return out;
  }
  std::string dir_;
  std::unique_ptr<BlockStore> store_;
};

// The tests that close a store and open it again, for the durable implementations.
class DurableBlockStoreConformance : public BlockStoreConformance {};

TEST_P(BlockStoreConformance, UnknownFileReadsZerosAndHasNoLength) {
  EXPECT_TRUE(all_zero(read(77, 0, 4096)));
  EXPECT_TRUE(all_zero(read(77, 1 << 30, 100)));
  EXPECT_EQ(*store().stored_length(77), 0u);
  EXPECT_EQ(store().space_used(77), 0u);
  EXPECT_EQ(store().sync(77), Status::kOk);
  EXPECT_EQ(store().remove(77), Status::kOk);
  EXPECT_EQ(store().truncate(77, 0), Status::kOk);
}

TEST_P(BlockStoreConformance, WritesReadBackAcrossBoundaries) {
  auto data = pattern(3 * kSpan + 123, 5);
  ASSERT_EQ(store().write(2, kSpan - 17, data), Status::kOk);
  EXPECT_EQ(read(2, kSpan - 17, data.size()), data);
  EXPECT_TRUE(all_zero(read(2, 0, kSpan - 17)));
  // Overwrite a piece in the middle; the rest stays.
  auto patch = pattern(5000, 99);
  ASSERT_EQ(store().write(2, 2 * kSpan - 100, patch), Status::kOk);
  auto again = read(2, kSpan - 17, data.size());
  std::copy(patch.begin(), patch.end(), data.begin() + (kSpan - 83));
  EXPECT_EQ(again, data);
  EXPECT_EQ(*store().stored_length(2), kSpan - 17 + data.size());
  EXPECT_GT(store().total_bytes_used(), 0u);
}

TEST_P(BlockStoreConformance, HolesAndReadsPastTheEndAreZeros) {
  auto data = pattern(100, 1);
  ASSERT_EQ(store().write(3, 10 * kSpan, data), Status::kOk);
  EXPECT_TRUE(all_zero(read(3, 0, 2 * kSpan)));
  EXPECT_EQ(read(3, 10 * kSpan, 100), data);
  auto tail = read(3, 10 * kSpan + 50, 4096);  // half data, half past the end
  EXPECT_TRUE(std::equal(data.begin() + 50, data.end(), tail.begin()));
  EXPECT_TRUE(all_zero(std::vector<uint8_t>(tail.begin() + 50, tail.end())));
  EXPECT_EQ(*store().stored_length(3), 10 * kSpan + 100);
}

TEST_P(BlockStoreConformance, TruncateDropsContentAndExtensionReadsZeros) {
  auto data = pattern(2 * kSpan, 3);
  ASSERT_EQ(store().write(4, 0, data), Status::kOk);
  ASSERT_EQ(store().truncate(4, 1000), Status::kOk);
  EXPECT_EQ(*store().stored_length(4), 1000u);
  EXPECT_EQ(read(4, 0, 1000), std::vector<uint8_t>(data.begin(), data.begin() + 1000));
  // Growing again (a truncate up, or a write further out) never brings old bytes back.
  ASSERT_EQ(store().truncate(4, 3 * kSpan), Status::kOk);
  EXPECT_EQ(*store().stored_length(4), 3 * kSpan);
  EXPECT_TRUE(all_zero(read(4, 1000, 3 * kSpan - 1000)));
  ASSERT_EQ(store().truncate(4, 0), Status::kOk);
  ASSERT_EQ(store().write(4, kSpan, pattern(10, 1)), Status::kOk);
  EXPECT_TRUE(all_zero(read(4, 0, kSpan)));
}

TEST_P(BlockStoreConformance, RemoveForgetsContentAndSpace) {
  ASSERT_EQ(store().write(5, 0, pattern(kSpan, 1)), Status::kOk);
  ASSERT_EQ(store().write(6, 0, pattern(100, 1)), Status::kOk);
  const uint64_t both = store().total_bytes_used();
  EXPECT_GE(store().space_used(5), 0u);
  ASSERT_EQ(store().remove(5), Status::kOk);
  EXPECT_LT(store().total_bytes_used(), both);
  EXPECT_TRUE(all_zero(read(5, 0, kSpan)));
  EXPECT_EQ(*store().stored_length(5), 0u);
  EXPECT_EQ(read(6, 0, 100), pattern(100, 1));
  // The id written again is a new, empty file.
  ASSERT_EQ(store().write(5, 10, pattern(5, 2)), Status::kOk);
  EXPECT_TRUE(all_zero(read(5, 0, 10)));
}

TEST_P(BlockStoreConformance, ReadsTakenBeforeAnOverwriteKeepTheirBytes) {
  auto first = pattern(8192, 1);
  ASSERT_EQ(store().write(7, 0, first), Status::kOk);
  ReadBuffer held;
  ASSERT_EQ(store().read(7, 0, 8192, held), Status::kOk);
  ASSERT_EQ(store().write(7, 0, pattern(8192, 200)), Status::kOk);
  ASSERT_EQ(store().truncate(7, 0), Status::kOk);
  std::vector<uint8_t> bytes;
  for (const auto& p : held.pieces)
    bytes.insert(bytes.end(), p.bytes.begin(), p.bytes.end());
  EXPECT_EQ(bytes, first);
}

TEST_P(BlockStoreConformance, RejectsOffsetOverflow) {
  auto data = pattern(16, 1);
  EXPECT_NE(store().write(8, UINT64_MAX - 4, data), Status::kOk);
}

TEST_P(BlockStoreConformance, ConcurrentWritersOfDisjointRangesAndReaders) {
  constexpr int kThreads = 4;
  constexpr size_t kPiece = 12288;
  std::atomic<bool> bad{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 40; ++round) {
        auto data = pattern(kPiece, static_cast<uint8_t>(t * 40 + round));
        if (store().write(9, t * kPiece, data) != Status::kOk) bad = true;
        ReadBuffer b;
        if (store().read(9, t * kPiece, kPiece, b) != Status::kOk) bad = true;
        std::vector<uint8_t> got;
        for (const auto& p : b.pieces)
          got.insert(got.end(), p.bytes.begin(), p.bytes.end());
        if (got != data) bad = true;  // only this thread writes this range
      }
    });
  }
  for (auto& th : threads)
    th.join();
  EXPECT_FALSE(bad.load());
  EXPECT_EQ(*store().stored_length(9), kThreads * kPiece);
}

// Many clients writing one file: threads overwrite interleaved pieces of a file that already
// has its chunks (the memory store's shared-lock path), some pieces crossing a chunk
// boundary, while a reader keeps READ replies across the writes. Each piece ends as its
// thread last wrote it, and bytes a reply holds never change under it.
TEST_P(BlockStoreConformance, ConcurrentOverwritesOfOneFileKeepEveryPieceAndHeldReads) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 30;
  constexpr size_t kPiece = 5000;  // not a divisor of the chunk size: some pieces cross one
  constexpr size_t kPieces = 4 * kSpan / kPiece;
  constexpr InodeId kFile = 12;
  ASSERT_EQ(store().write(kFile, 0, pattern(kPieces * kPiece, 0)), Status::kOk);
  auto seed = [](size_t piece, int round) { return static_cast<uint8_t>(piece * 31 + round); };
  std::atomic<bool> writers_done{false};
  std::atomic<int> torn_holds{0};
  std::thread reader([&] {
    while (!writers_done.load()) {
      ReadBuffer held;
      if (store().read(kFile, 0, kPieces * kPiece, held) != Status::kOk) torn_holds++;
      std::vector<std::vector<uint8_t>> copy;
      for (const auto& p : held.pieces)
        copy.emplace_back(p.bytes.begin(), p.bytes.end());
      std::this_thread::yield();  // let writes land while the reply is held
      for (size_t i = 0; i < held.pieces.size(); ++i) {
        if (!std::equal(copy[i].begin(), copy[i].end(), held.pieces[i].bytes.begin())) {
          torn_holds++;
        }
      }
    }
  });
  std::vector<std::thread> writers;
  std::atomic<bool> bad{false};
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int round = 1; round <= kRounds; ++round) {
        for (size_t piece = t; piece < kPieces; piece += kThreads) {
          if (store().write(kFile, piece * kPiece, pattern(kPiece, seed(piece, round))) !=
              Status::kOk) {
            bad = true;
          }
        }
      }
    });
  }
  for (auto& th : writers)
    th.join();
  writers_done = true;
  reader.join();
  EXPECT_FALSE(bad.load());
  EXPECT_EQ(torn_holds.load(), 0);
  const auto all = read(kFile, 0, kPieces * kPiece);
  for (size_t piece = 0; piece < kPieces; ++piece) {
    const auto want = pattern(kPiece, seed(piece, kRounds));
    ASSERT_TRUE(std::equal(want.begin(), want.end(), all.begin() + piece * kPiece)) << piece;
  }
  EXPECT_EQ(*store().stored_length(kFile), kPieces * kPiece);
}

TEST_P(DurableBlockStoreConformance, SyncedContentSurvivesReopen) {
  auto data = pattern(3 * kSpan + 5, 9);
  ASSERT_EQ(store().write(10, 100, data), Status::kOk);
  ASSERT_EQ(store().sync(10), Status::kOk);
  ASSERT_EQ(store().write(11, 0, pattern(10, 1)), Status::kOk);
  ASSERT_EQ(store().truncate(11, 5), Status::kOk);
  ASSERT_EQ(store().sync(11), Status::kOk);
  const uint64_t used = store().total_bytes_used();
  reopen();
  EXPECT_EQ(read(10, 100, data.size()), data);
  EXPECT_EQ(*store().stored_length(10), 100 + data.size());
  EXPECT_EQ(*store().stored_length(11), 5u);
  EXPECT_EQ(store().total_bytes_used(), used);
}

INSTANTIATE_TEST_SUITE_P(Stores, BlockStoreConformance, ::testing::Values("memory", "fs"),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(Durable, DurableBlockStoreConformance, ::testing::Values("fs"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace dfs::vfs
