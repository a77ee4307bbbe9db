#pragma once
// Out-of-line WRITE bytes (xdr/out_of_line.h) received into chunk-pool buffers laid out the
// way the memory block store cuts files: byte i of the payload lands in buffer
// (lead + i) / chunk_size at (lead + i) % chunk_size, where lead is the write's file offset
// modulo the chunk size. A buffer the write covers whole can then become the file's chunk
// as it is (MemoryBlockStore adopts it) and the bytes are never copied in user space.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "vfs/block/chunk_pool.h"
#include "xdr/out_of_line.h"

namespace dfs::vfs {

class PooledPayload final : public xdr::OutOfLineBytes {
 public:
  // Takes the buffers `lead + length` bytes need from `pool` (std::bad_alloc if it cannot).
  PooledPayload(std::shared_ptr<ChunkPool> pool, size_t lead, size_t length);
  ~PooledPayload() override;
  PooledPayload(const PooledPayload&) = delete;
  PooledPayload& operator=(const PooledPayload&) = delete;

  const std::shared_ptr<ChunkPool>& pool() const { return pool_; }
  size_t lead() const { return lead_; }
  size_t buffer_count() const { return buffers_.size(); }
  // Hands buffer i (a whole chunk) to the caller, who gives it back to pool() when done;
  // null if it was already taken.
  uint8_t* take(size_t i);

 private:
  std::shared_ptr<ChunkPool> pool_;
  size_t lead_;
  std::vector<uint8_t*> buffers_;
};

}  // namespace dfs::vfs
