#include "util/space_floor.h"

#include <sys/statvfs.h>

#include <algorithm>

namespace dfs::util {

namespace {

constexpr uint64_t kMaxFloor = uint64_t{64} << 20;
constexpr int64_t kMaxChunk = int64_t{1} << 20;

// What one thread holds of one SpaceFloor's budget. One slot per thread: a thread that
// writes to another store gives up the rest of its chunk (the next look counts it again).
struct HeldChunk {
  const SpaceFloor* owner = nullptr;
  uint64_t generation = 0;
  int64_t left = 0;
};
thread_local HeldChunk held;
// Generations count up across every SpaceFloor, so a new one at the address of a destroyed
// one never matches a chunk a thread still holds of the old.
std::atomic<uint64_t> generations{1};

}  // namespace

SpaceFloor::SpaceFloor(std::string path, uint64_t floor)
    : path_(std::move(path)),
      floor_(floor),
      // Small against the floor, so that the chunks threads hold cannot eat much of it.
      chunk_(std::clamp<int64_t>(static_cast<int64_t>(floor / 64), 4096, kMaxChunk)) {
  budget_.store(look(), std::memory_order_relaxed);
  generation_.store(generations.fetch_add(1 << 20, std::memory_order_relaxed));
}

uint64_t SpaceFloor::default_floor(const std::string& path) {
  struct statvfs vfs {};
  if (::statvfs(path.c_str(), &vfs) != 0) return kMaxFloor;
  const uint64_t size = static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize;
  return std::min(kMaxFloor, size / 20);
}

int64_t SpaceFloor::look() const {
  // At most a quarter of the floor at a time: the disk is shared (the other store of the
  // share, other shares, other programs), so what was free at the last look may be gone,
  // and a look every floor/4 bytes bounds how far past the floor this store can go.
  return std::min<int64_t>(free_above_floor(), std::max<int64_t>(floor_ / 4, chunk_));
}

int64_t SpaceFloor::free_above_floor() const {
  struct statvfs vfs {};
  if (::statvfs(path_.c_str(), &vfs) != 0) return INT64_MAX / 4;
  const uint64_t avail = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  return static_cast<int64_t>(avail) - static_cast<int64_t>(floor_);
}

bool SpaceFloor::take_chunk(int64_t want) {
  if (budget_.fetch_sub(want, std::memory_order_relaxed) >= want) return true;
  // The budget ran out: look at the disk again (space may have been freed), once for all
  // the threads that ran out together.
  const uint64_t seen = generation_.load(std::memory_order_acquire);
  std::lock_guard lock(look_mu_);
  if (generation_.load(std::memory_order_relaxed) == seen) {
    budget_.store(look(), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  return budget_.fetch_sub(want, std::memory_order_relaxed) >= want;
}

bool SpaceFloor::admit(uint64_t bytes) {
  // No floor (configured 0): nothing to keep, and no statvfs every few KiB to find that out.
  if (bytes == 0 || floor_ == 0) return true;
  const uint64_t gen = generation_.load(std::memory_order_acquire);
  if (held.owner != this || held.generation != gen) held = {this, gen, 0};
  const int64_t n = static_cast<int64_t>(std::min<uint64_t>(bytes, INT64_MAX / 4));
  if (held.left >= n) {
    held.left -= n;
    return true;
  }
  const int64_t want = std::max(chunk_, n - held.left);
  if (!take_chunk(want)) {
    held.left = 0;
    return false;
  }
  held.generation = generation_.load(std::memory_order_acquire);
  held.left += want - n;
  return true;
}

}  // namespace dfs::util
