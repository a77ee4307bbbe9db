#pragma once
// Full-size chunk buffers for the memory block store, carved from 2 MiB regions and recycled.
//
// Why: a chunk that comes fresh from the kernel costs a page fault per 4 KiB and the kernel
// zeroing the page (under a hypervisor, also the host's fault) before the store overwrites it;
// profiles of sequential writes showed that to be half the server's CPU. Buffers freed by
// REMOVE and TRUNCATE go back to this pool and are handed out again without touching the
// kernel. Regions are not advised for transparent huge pages: under this project's VM (with
// free-page reporting to the host), a huge page comes from a block the host has taken back,
// and each of its 4 KiB pieces costs a host fault; measured, the kernel client's 1 MiB WRITEs
// into fresh memory took twice the server CPU with MADV_HUGEPAGE, and cold 2 GiB seqwrite
// runs 1.3-2x longer (docs/performance.md, speed pass item 8).
//
// Memory is given back as well, like an allocator's decay: a region all of whose chunks have
// been free for `decay` is unmapped by a background thread, and at most `max_idle_bytes` of
// wholly free regions are kept at any time. Free chunks in a region that still holds data
// stay mapped until the region empties (the next writes take them first); like any
// allocator's fragmentation, deleting every other file can leave that much memory held.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace dfs::vfs {

class ChunkPool {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kRegionSize = 2 * 1024 * 1024;

  struct Options {
    size_t chunk_size = 256 * 1024;  // must divide kRegionSize
    size_t max_idle_bytes = size_t{4} << 30;
    Clock::duration decay = std::chrono::seconds(10);
  };

  explicit ChunkPool(Options opts);
  ~ChunkPool();
  // The pool every memory block store of the process shares by default (one trimmer thread,
  // and memory freed in one share serves writes in another).
  static const std::shared_ptr<ChunkPool>& process_pool();
  ChunkPool(const ChunkPool&) = delete;
  ChunkPool& operator=(const ChunkPool&) = delete;

  // A chunk_size buffer with unspecified content; throws std::bad_alloc when the kernel has
  // no memory to give.
  uint8_t* acquire();
  void release(uint8_t* chunk);

  size_t chunk_size() const { return opts_.chunk_size; }
  // Bytes mapped from the kernel, and the part of them held by nobody (for tests and metrics).
  size_t mapped_bytes() const;
  size_t free_bytes() const;
  // Unmaps every wholly free region idle since before `now - decay`; returns how many.
  // The background thread calls this; tests call it with a chosen `now`.
  size_t trim(Clock::time_point now);

 private:
  struct Region {
    uint32_t used_mask = 0;  // bit i: chunk i is handed out
    Clock::time_point idle_since{};
  };
  static constexpr uint32_t kMaxChunksPerRegion = 32;

  uint8_t* map_region();
  void unmap_region(uintptr_t base);
  void trimmer_loop();

  const Options opts_;
  const uint32_t per_region_;
  const uint32_t full_mask_;

  mutable std::mutex mu_;
  std::unordered_map<uintptr_t, Region> regions_;
  // Regions that had a free chunk when pushed; entries go stale (region full or unmapped) and
  // are skipped when popped.
  std::vector<uintptr_t> with_room_;
  size_t free_chunks_ = 0;
  size_t idle_regions_ = 0;

  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread trimmer_;
};

}  // namespace dfs::vfs
