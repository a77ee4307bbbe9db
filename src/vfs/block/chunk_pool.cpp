#include "vfs/block/chunk_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <new>
#include <stdexcept>

#if defined(__SANITIZE_ADDRESS__)
#define DFS_POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DFS_POOL_ASAN 1
#endif
#endif

#ifdef DFS_POOL_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace dfs::vfs {
namespace {

// The pool maps its memory itself, so AddressSanitizer would not notice a use of a chunk
// after it went back to the pool; poisoning free chunks makes it notice.
void poison(uint8_t* p, size_t n) {
#ifdef DFS_POOL_ASAN
  ASAN_POISON_MEMORY_REGION(p, n);
#else
  (void)p;
  (void)n;
#endif
}
void unpoison(uint8_t* p, size_t n) {
#ifdef DFS_POOL_ASAN
  ASAN_UNPOISON_MEMORY_REGION(p, n);
#else
  (void)p;
  (void)n;
#endif
}

}  // namespace

ChunkPool::ChunkPool(Options opts)
    : opts_(opts),
      per_region_(static_cast<uint32_t>(kRegionSize / (opts.chunk_size ? opts.chunk_size : 1))),
      full_mask_(per_region_ >= 32 ? ~uint32_t{0} : (uint32_t{1} << per_region_) - 1) {
  if (opts_.chunk_size == 0 || kRegionSize % opts_.chunk_size != 0 ||
      per_region_ > kMaxChunksPerRegion) {
    throw std::invalid_argument("chunk size must divide 2 MiB into at most 32 chunks");
  }
  trimmer_ = std::thread([this] { trimmer_loop(); });
}

const std::shared_ptr<ChunkPool>& ChunkPool::process_pool() {
  static const auto pool = [] {
    // Idle memory kept for reuse: an eighth of the machine's memory, at most 4 GiB.
    Options opts;
    long pages = ::sysconf(_SC_PHYS_PAGES);
    long page_size = ::sysconf(_SC_PAGESIZE);
    if (pages > 0 && page_size > 0) {
      opts.max_idle_bytes = std::min(
          opts.max_idle_bytes, static_cast<size_t>(pages) * static_cast<size_t>(page_size) / 8);
    }
    return std::make_shared<ChunkPool>(opts);
  }();
  return pool;
}

ChunkPool::~ChunkPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  trimmer_.join();
  // Chunks still handed out belong to chunks that outlive the store only if a caller leaked
  // them; everything is unmapped either way.
  for (auto& [base, region] : regions_)
    unmap_region(base);
}

uint8_t* ChunkPool::map_region() {
  // Over-map by one region so an aligned 2 MiB window exists, then cut the rest away. The
  // alignment keeps a region to one page-table page; no huge-page advice (see the header).
  const size_t span = 2 * kRegionSize;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  auto start = reinterpret_cast<uintptr_t>(raw);
  uintptr_t base = (start + kRegionSize - 1) & ~(uintptr_t{kRegionSize} - 1);
  if (base > start) ::munmap(raw, base - start);
  uintptr_t tail = base + kRegionSize;
  if (start + span > tail) ::munmap(reinterpret_cast<void*>(tail), start + span - tail);
  poison(reinterpret_cast<uint8_t*>(base), kRegionSize);
  return reinterpret_cast<uint8_t*>(base);
}

void ChunkPool::unmap_region(uintptr_t base) {
  unpoison(reinterpret_cast<uint8_t*>(base), kRegionSize);
  ::munmap(reinterpret_cast<void*>(base), kRegionSize);
}

uint8_t* ChunkPool::acquire() {
  std::lock_guard lock(mu_);
  while (!with_room_.empty()) {
    uintptr_t base = with_room_.back();
    auto it = regions_.find(base);
    if (it == regions_.end() || it->second.used_mask == full_mask_) {
      with_room_.pop_back();  // stale entry
      continue;
    }
    Region& r = it->second;
    if (r.used_mask == 0) --idle_regions_;
    auto index = static_cast<uint32_t>(std::countr_one(r.used_mask));
    r.used_mask |= uint32_t{1} << index;
    if (r.used_mask == full_mask_) with_room_.pop_back();
    --free_chunks_;
    auto* chunk = reinterpret_cast<uint8_t*>(base) + size_t{index} * opts_.chunk_size;
    unpoison(chunk, opts_.chunk_size);
    return chunk;
  }
  uint8_t* region = map_region();
  auto base = reinterpret_cast<uintptr_t>(region);
  regions_[base].used_mask = 1;
  free_chunks_ += per_region_ - 1;
  if (per_region_ > 1) with_room_.push_back(base);
  unpoison(region, opts_.chunk_size);
  return region;
}

void ChunkPool::release(uint8_t* chunk) {
  if (!chunk) return;
  auto p = reinterpret_cast<uintptr_t>(chunk);
  uintptr_t base = p & ~(uintptr_t{kRegionSize} - 1);
  poison(chunk, opts_.chunk_size);
  bool notify = false;
  {
    std::lock_guard lock(mu_);
    auto it = regions_.find(base);
    assert(it != regions_.end());
    if (it == regions_.end()) return;
    Region& r = it->second;
    uint32_t bit = uint32_t{1} << ((p - base) / opts_.chunk_size);
    assert(r.used_mask & bit);
    if (r.used_mask == full_mask_) with_room_.push_back(base);
    r.used_mask &= ~bit;
    ++free_chunks_;
    if (r.used_mask != 0) return;
    if ((idle_regions_ + 1) * kRegionSize > opts_.max_idle_bytes) {
      // Over the idle budget: this region goes back to the kernel at once.
      free_chunks_ -= per_region_;
      regions_.erase(it);
      unmap_region(base);
      return;
    }
    r.idle_since = Clock::now();
    notify = ++idle_regions_ == 1;
  }
  if (notify) cv_.notify_one();
}

size_t ChunkPool::trim(Clock::time_point now) {
  std::lock_guard lock(mu_);
  size_t unmapped = 0;
  for (auto it = regions_.begin(); it != regions_.end();) {
    if (it->second.used_mask == 0 && it->second.idle_since + opts_.decay <= now) {
      unmap_region(it->first);
      free_chunks_ -= per_region_;
      --idle_regions_;
      ++unmapped;
      it = regions_.erase(it);
    } else {
      ++it;
    }
  }
  // Drop stale with_room_ entries now and then so the list stays proportional to the regions.
  if (with_room_.size() > 2 * regions_.size() + 64) {
    with_room_.clear();
    for (const auto& [base, region] : regions_)
      if (region.used_mask != full_mask_) with_room_.push_back(base);
  }
  return unmapped;
}

void ChunkPool::trimmer_loop() {
  const auto tick = std::min<Clock::duration>(opts_.decay, std::chrono::seconds(1));
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (idle_regions_ == 0) {
      cv_.wait(lock, [&] { return stopping_ || idle_regions_ > 0; });
      continue;
    }
    cv_.wait_for(lock, tick, [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    trim(Clock::now());
    lock.lock();
  }
}

size_t ChunkPool::mapped_bytes() const {
  std::lock_guard lock(mu_);
  return regions_.size() * kRegionSize;
}

size_t ChunkPool::free_bytes() const {
  std::lock_guard lock(mu_);
  return free_chunks_ * opts_.chunk_size;
}

}  // namespace dfs::vfs
