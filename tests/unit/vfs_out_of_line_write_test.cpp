// WRITE data received out of line into chunk-pool buffers (PooledPayload) and handed to the
// memory block store: whole chunks are taken over without a copy, everything else is copied,
// and the file reads what was sent in every case.

#include <gtest/gtest.h>

#include <vector>

#include "vfs/block/memory_store.h"
#include "vfs/block/pooled_payload.h"

namespace dfs::vfs {
namespace {

constexpr size_t kChunk = MemoryBlockStore::kChunkSize;

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = static_cast<uint8_t>(seed + i * 13);
  return v;
}

// What the transport does: the payload's bytes written into the segments.
std::shared_ptr<PooledPayload> received(const std::shared_ptr<ChunkPool>& pool, uint64_t offset,
                                        const std::vector<uint8_t>& data) {
  auto p = std::make_shared<PooledPayload>(pool, offset % pool->chunk_size(), data.size());
  p->copy_in(0, data.data(), data.size());
  return p;
}

ReadBuffer read_buf(MemoryBlockStore& s, InodeId id, uint64_t off, size_t len) {
  ReadBuffer b;
  EXPECT_EQ(s.read(id, off, len, b), Status::kOk);
  return b;
}

std::vector<uint8_t> flat(const ReadBuffer& b) {
  std::vector<uint8_t> out;
  for (const auto& p : b.pieces)
    out.insert(out.end(), p.bytes.begin(), p.bytes.end());
  return out;
}

class OutOfLineWriteTest : public ::testing::Test {
 protected:
  std::shared_ptr<ChunkPool> pool_ = std::make_shared<ChunkPool>(ChunkPool::Options{});
  MemoryBlockStore store_{pool_};
};

TEST_F(OutOfLineWriteTest, SegmentsFollowTheFileOffsetWithinChunks) {
  PooledPayload p(pool_, 1000, 2 * kChunk);
  ASSERT_EQ(p.buffer_count(), 3u);
  ASSERT_EQ(p.segments.size(), 3u);
  EXPECT_EQ(p.segments[0].size(), kChunk - 1000);
  EXPECT_EQ(p.segments[1].size(), kChunk);
  EXPECT_EQ(p.segments[2].size(), 1000u);
  EXPECT_EQ(pool_->free_bytes(), pool_->mapped_bytes() - 3 * kChunk);
}

TEST_F(OutOfLineWriteTest, UnusedBuffersGoBackToThePool) {
  {
    PooledPayload p(pool_, 0, 4 * kChunk);
    EXPECT_EQ(pool_->free_bytes(), pool_->mapped_bytes() - 4 * kChunk);
  }
  EXPECT_EQ(pool_->free_bytes(), pool_->mapped_bytes());
}

TEST_F(OutOfLineWriteTest, WholeChunksAreTakenOverWithoutACopy) {
  auto data = pattern(4 * kChunk, 3);
  auto p = received(pool_, 8 * kChunk, data);
  std::vector<const uint8_t*> buffers;
  for (auto seg : p->segments)
    buffers.push_back(seg.data());
  ASSERT_EQ(store_.write_out_of_line(1, 8 * kChunk, *p), Status::kOk);
  auto b = read_buf(store_, 1, 8 * kChunk, data.size());
  EXPECT_EQ(flat(b), data);
  // Each chunk the file reads from is the buffer the bytes were received into.
  ASSERT_EQ(b.pieces.size(), 4u);
  for (size_t i = 0; i < 4; ++i)
    EXPECT_EQ(b.pieces[i].bytes.data(), buffers[i]) << "chunk " << i;
  EXPECT_EQ(store_.space_used(1), 4 * kChunk);
  p.reset();  // the payload no longer owns the taken buffers
  EXPECT_EQ(flat(read_buf(store_, 1, 8 * kChunk, data.size())), data);
  b.pieces.clear();
  EXPECT_EQ(store_.remove(1), Status::kOk);
  EXPECT_EQ(pool_->free_bytes(), pool_->mapped_bytes());
}

TEST_F(OutOfLineWriteTest, PartlyCoveredChunksAreCopiedIntoWhatTheFileHas) {
  auto old = pattern(4 * kChunk, 1);
  ASSERT_EQ(store_.write(1, 0, old), Status::kOk);
  // From the middle of chunk 0 to the middle of chunk 3: chunks 1 and 2 are whole.
  const uint64_t off = kChunk / 2 + 4;
  auto data = pattern(3 * kChunk - 100, 99);
  auto p = received(pool_, off, data);
  const uint8_t* middle = p->segments[1].data();
  ASSERT_EQ(store_.write_out_of_line(1, off, *p), Status::kOk);
  auto expect = old;
  std::copy(data.begin(), data.end(), expect.begin() + static_cast<long>(off));
  auto b = read_buf(store_, 1, 0, expect.size());
  EXPECT_EQ(flat(b), expect);
  EXPECT_EQ(b.pieces[1].bytes.data(), middle);
  EXPECT_EQ(store_.space_used(1), 4 * kChunk);
}

TEST_F(OutOfLineWriteTest, ReadsHeldBeforeTheWriteKeepTheOldBytes) {
  auto old = pattern(kChunk, 5);
  ASSERT_EQ(store_.write(1, 0, old), Status::kOk);
  auto held = read_buf(store_, 1, 0, kChunk);
  auto data = pattern(kChunk, 6);
  auto p = received(pool_, 0, data);
  ASSERT_EQ(store_.write_out_of_line(1, 0, *p), Status::kOk);
  EXPECT_EQ(flat(held), old);
  EXPECT_EQ(flat(read_buf(store_, 1, 0, kChunk)), data);
}

TEST_F(OutOfLineWriteTest, ForeignPoolOrMismatchedLeadIsCopied) {
  auto other_pool = std::make_shared<ChunkPool>(ChunkPool::Options{});
  auto data = pattern(2 * kChunk, 7);
  auto foreign = received(other_pool, 0, data);
  ASSERT_EQ(store_.write_out_of_line(1, 0, *foreign), Status::kOk);
  EXPECT_EQ(flat(read_buf(store_, 1, 0, data.size())), data);
  // Laid out for offset 0 but written at 4096: the segments do not line up with the chunks.
  auto shifted = received(pool_, 0, data);
  ASSERT_EQ(store_.write_out_of_line(2, 4096, *shifted), Status::kOk);
  EXPECT_EQ(flat(read_buf(store_, 2, 4096, data.size())), data);
  for (const auto& piece : read_buf(store_, 2, 4096, data.size()).pieces) {
    for (auto seg : shifted->segments)
      EXPECT_NE(piece.bytes.data(), seg.data());
  }
}

TEST_F(OutOfLineWriteTest, EveryBufferReturnsToThePoolWhenTheFileGoes) {
  auto data = pattern(2 * kChunk + 8, 2);
  auto p = received(pool_, 0, data);  // two buffers taken over, the third copied from
  ASSERT_EQ(store_.write_out_of_line(1, 0, *p), Status::kOk);
  EXPECT_EQ(flat(read_buf(store_, 1, 0, data.size())), data);
  ASSERT_EQ(store_.remove(1), Status::kOk);
  p.reset();
  EXPECT_EQ(pool_->free_bytes(), pool_->mapped_bytes());
}

}  // namespace
}  // namespace dfs::vfs
