#pragma once
// A BlockStore in memory. Content is cut at fixed 256 KiB boundaries into chunks held by
// shared_ptr, so READ can hand the transport references into the chunks (no copy) while the
// chunks stay alive. Writes are copy-on-write: a chunk that a reader still holds is cloned
// before it is modified, so bytes already handed out never change underneath a reply.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "util/reader_slots_shared_mutex.h"
#include "util/spinning_shared_mutex.h"
#include "vfs/block/chunk_pool.h"
#include "vfs/block_store.h"

namespace dfs::vfs {

class MemoryBlockStore final : public BlockStore {
 public:
  // Chunk boundaries: offset o lives in chunk o / kChunkSize.
  static constexpr size_t kChunkSize = 256 * 1024;
  // A chunk's buffer covers only the start of its 256 KiB range that has been written (rounded
  // up to a power of two, at least this much), so a 100-byte file costs 4 KiB, not 256 KiB.
  // The rest of the range reads as zeros.
  static constexpr size_t kMinChunkCapacity = 4096;
  // Whether a chunk no reader holds is modified in place. ThreadSanitizer does not model the
  // fence that makes the in-place path race-free, so under it every write clones instead
  // (correct, only slower) and its reports stay meaningful for the rest of the code.
#if defined(__SANITIZE_THREAD__)
  static constexpr bool kInPlaceWrites = false;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
  static constexpr bool kInPlaceWrites = false;
#else
  static constexpr bool kInPlaceWrites = true;
#endif
#else
  static constexpr bool kInPlaceWrites = true;
#endif

  explicit MemoryBlockStore(std::shared_ptr<ChunkPool> pool = ChunkPool::process_pool());
  // Full-size chunks come from (and return to) this pool; exposed for tests.
  const ChunkPool& chunk_pool() const {
    return *pool_;
  }

  Status read(InodeId id, uint64_t offset, size_t length, ReadBuffer& out) override;
  Status write(InodeId id, uint64_t offset, std::span<const uint8_t> data) override;
  // A PooledPayload from this store's pool whose lead matches the offset: each chunk the
  // write covers whole becomes the file's chunk as received (no copy, and no clone when a
  // READ reply holds the old one); the partly covered ends are copied.
  Status write_out_of_line(InodeId id, uint64_t offset, xdr::OutOfLineBytes& data) override;
  Status truncate(InodeId id, uint64_t size) override;
  Status remove(InodeId id) override;
  Status sync(InodeId id) override;
  Result<uint64_t> stored_length(InodeId id) override;
  uint64_t space_used(InodeId id) override;
  uint64_t total_bytes_used() override;

  // The shared all-zero buffer that hole pieces point into (exposed for tests).
  static const std::shared_ptr<const uint8_t>& zero_chunk();

 private:
  // Full-size buffers go back to the pool (which outlives every chunk through this
  // reference, since READ replies may hold chunks after the store is gone); smaller ones are
  // plain heap arrays.
  struct ReleaseBytes {
    std::shared_ptr<ChunkPool> pool;
    void operator()(uint8_t* p) const;
  };
  struct Chunk {
    Chunk(size_t cap, const std::shared_ptr<ChunkPool>& pool);
    // Takes over a full-size buffer of the pool.
    explicit Chunk(std::unique_ptr<uint8_t[], ReleaseBytes> full);
    size_t capacity;
    std::unique_ptr<uint8_t[], ReleaseBytes> bytes;
  };
  // Locking. A file's shard lock (a reader-slots lock: its shared lockers write only a
  // cache line of their own thread's) guards the shard's file map and each file's set of
  // chunks. READs, and WRITEs that only overwrite chunks the file already has, take it
  // shared; whatever adds or drops a file or a chunk (a WRITE into a new chunk, truncate,
  // remove, adopting received chunks) takes it exclusively. Under the shared lock, one chunk
  // slot (the pointer in the map) is guarded by its slot lock (slot_lock(): readers shared,
  // writers exclusive), so many clients writing one file copy into its different chunks side
  // by side, and a reader never sees a slot half replaced. No per-file lock and no per-file
  // reference count: many clients reading or overwriting one file write nothing in common
  // but the slot locks and chunks they touch.
  struct File {
    std::map<uint64_t, std::shared_ptr<Chunk>> chunks;  // by chunk index
    std::atomic<uint64_t> bytes{0};                     // sum of chunk capacities
    // The end of the furthest byte written or truncated to: stored under the shard held
    // exclusively, raised under it held shared.
    std::atomic<uint64_t> length{0};
  };

  // Files by inode id in shards (id mod kShards, as the metadata store), so that READ and
  // GETATTR of different files on different reactors never share a lock word.
  static constexpr size_t kShards = 64;
  struct alignas(64) Shard {
    util::ReaderSlotsSharedMutex mu;
    std::unordered_map<InodeId, std::unique_ptr<File>> files;
  };
  Shard& shard(InodeId id) {
    return shards_[id % kShards];
  }
  // The file, or null; the caller holds sh.mu.
  static File* find_locked(Shard& sh, InodeId id);
  // The file, created empty if it has none; the caller holds sh.mu exclusively.
  static File& file_locked(Shard& sh, InodeId id);

  // Copies `data` into the file at `pos`; the caller holds the file's shard exclusively.
  void write_locked(File& f, uint64_t pos, std::span<const uint8_t> data);
  // Copies `data` into chunk slot `slot` at chunk offset `coff`: in place when no reader holds
  // the chunk and it is big enough, else into a fresh chunk that replaces it. The caller holds
  // the shard exclusively, or shared plus the slot's lock.
  void write_chunk(File& f, std::shared_ptr<Chunk>& slot, size_t coff,
                   std::span<const uint8_t> data);
  // The same as write_locked with the shard held shared, when every chunk `data` touches
  // exists; false (nothing written) when one does not.
  bool overwrite_shared(File& f, InodeId id, uint64_t pos, std::span<const uint8_t> data);
  static void raise_length(File& f, uint64_t end);
  // Makes `bytes` (a full-size buffer of this store's pool) chunk `index`; shard exclusive.
  void adopt_locked(File& f, uint64_t index, uint8_t* bytes);
  // A chunk of `cap` bytes holding `old`'s content (zeros where `old` has none), except for
  // [skip_from, skip_to) which the caller is about to overwrite and so is left uninitialised.
  std::shared_ptr<Chunk> rebuild(const Chunk* old, size_t cap, size_t skip_from, size_t skip_to);
  static size_t capacity_for(size_t end);
  // Accounting for a chunk replaced by one of another capacity.
  void account(File& f, int64_t delta);

  // Slot locks, striped by (file, chunk index): a lock per chunk would cost every small file
  // one; this way two chunks share a lock only by chance.
  static constexpr size_t kSlotLocks = 1024;
  struct alignas(64) SlotLock {
    util::SpinningSharedMutex mu;
  };
  util::SpinningSharedMutex& slot_lock(InodeId id, uint64_t index);

  std::shared_ptr<ChunkPool> pool_;
  std::array<Shard, kShards> shards_;
  std::array<SlotLock, kSlotLocks> slot_locks_;
  std::atomic<uint64_t> total_bytes_{0};
};

}  // namespace dfs::vfs
