#pragma once
// Keeps the free space of a file system above a floor. A store asks admit(n) before it takes
// n more bytes; below the floor the answer is no, and the store refuses the change (NOSPC)
// before the disk itself runs out. The room left under the floor is what lets the changes
// that free space (a REMOVE, which the metadata store must write) go through on a disk that
// is full to the user: without it, the first write to find the disk full can leave the
// metadata store unable to record even the delete that would make room.
//
// Cost on the hot path: each thread takes the budget in chunks from one shared counter (one
// atomic operation per chunk, not per write), and the file system is asked again (statvfs)
// when the counter runs out, which is at most every floor/4 bytes: a disk far from full
// costs next to nothing.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace dfs::util {

class SpaceFloor {
 public:
  // Keeps `floor` bytes free on the file system that holds `path`; 0 admits everything.
  SpaceFloor(std::string path, uint64_t floor);
  // The floor the stores use by default: 5% of the file system, at most 64 MiB.
  static uint64_t default_floor(const std::string& path);

  // True if `bytes` more may be written. An answer the file system cannot give (statvfs
  // fails) admits: the write itself then finds out.
  bool admit(uint64_t bytes);
  uint64_t floor() const { return floor_; }

 private:
  // The budget a look at the file system gives (negative: below the floor).
  int64_t look() const;
  // Free bytes above the floor, asked of the file system now.
  int64_t free_above_floor() const;
  bool take_chunk(int64_t want);

  const std::string path_;
  const uint64_t floor_;
  const int64_t chunk_;  // what a thread takes from budget_ at a time
  std::mutex look_mu_;
  // Free bytes above the floor at the last look, less the chunks taken since.
  alignas(64) std::atomic<int64_t> budget_{0};
  // Raised at each look, so chunks taken before it (counted against the old budget) are
  // given up by the threads holding them.
  std::atomic<uint64_t> generation_{0};
};

}  // namespace dfs::util
