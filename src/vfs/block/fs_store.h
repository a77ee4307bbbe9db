#pragma once
// A BlockStore in files of a local file system: one file per inode under the store's
// directory (`xx/<inode id in hex>`, xx the id's low byte, so no directory grows past
// 1/256 of the files). Bytes go in with pwrite and come out with pread; sync() is
// fdatasync(2) of the file, plus an fsync of its directory the first time, so a file created
// and synced survives a crash with its name.
//
// Crash behaviour: what sync() returned kOk for is on disk. Bytes written and not synced may
// or may not be there after a crash, and a write in flight at the crash may be there in part
// (the file system's page granularity); the metadata layer only reports such writes as
// UNSTABLE, and start-up recovery trims a file's size to the content that reached the disk.
//
// Descriptors are cached per inode (a bounded number, per shard); a file not in the cache is
// opened on demand.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "util/reader_slots_shared_mutex.h"
#include "util/space_floor.h"
#include "vfs/block_store.h"

namespace dfs::vfs {

class FsBlockStore final : public BlockStore {
 public:
  // Creates `dir` (and its subdirectories) if needed; throws std::runtime_error when it
  // cannot.
  // Writes that would leave less than `free_floor` bytes free on its file system are
  // refused (kNoSpc); nullopt: SpaceFloor::default_floor.
  explicit FsBlockStore(std::string dir, std::optional<uint64_t> free_floor = std::nullopt);

  Status read(InodeId id, uint64_t offset, size_t length, ReadBuffer& out) override;
  Status write(InodeId id, uint64_t offset, std::span<const uint8_t> data) override;
  Status truncate(InodeId id, uint64_t size) override;
  Status remove(InodeId id) override;
  Status sync(InodeId id) override;
  bool durable() const override { return true; }
  Result<uint64_t> stored_length(InodeId id) override;
  uint64_t space_used(InodeId id) override;
  // A stat per GETATTR and per READDIR entry cost more than the rest of those operations.
  bool space_used_is_cheap() const override { return false; }
  uint64_t total_bytes_used() override;

  const std::string& directory() const { return dir_; }

 private:
  struct OpenFile {
    explicit OpenFile(int f) : fd(f) {}
    ~OpenFile();
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;
    const int fd;
    std::atomic<uint64_t> length{0};  // the file's length as this store last left it
  };
  static constexpr size_t kShards = 64;
  static constexpr size_t kOpenPerShard = 16;  // at most 1,024 cached descriptors
  struct alignas(64) Shard {
    // Shared to find a cached descriptor (every READ and WRITE, from every reactor: readers
    // write only a slot of their own thread's), exclusive to change the cache.
    util::ReaderSlotsSharedMutex mu;
    std::unordered_map<InodeId, std::shared_ptr<OpenFile>> open;
    std::atomic<int64_t> bytes{0};  // sum of the lengths of this shard's files
  };
  Shard& shard(InodeId id) { return shards_[id % kShards]; }
  // Files created in a subdirectory count up `created`; a sync that finds `synced` below it
  // fsyncs the directory (one fsync for every creation before it, as a group commit).
  struct alignas(64) Subdir {
    std::atomic<uint64_t> created{0};
    std::mutex mu;
    uint64_t synced = 0;  // under mu
  };
  Status sync_entries(InodeId id);
  std::string subdir_of(InodeId id) const;
  std::string path_of(InodeId id) const;
  // The file's descriptor; nullptr when it does not exist (and `create` is false) or cannot
  // be opened (errno says why).
  std::shared_ptr<OpenFile> open(InodeId id, bool create);
  // Records that a file's length is now `length`.
  void set_length(InodeId id, OpenFile& f, uint64_t length);
  void grow_to(InodeId id, OpenFile& f, uint64_t end);
  // Counts what is already on disk (at start).
  void scan();

  const std::string dir_;
  // Keeps room on the disk for the metadata changes that free space (util/space_floor.h).
  std::unique_ptr<util::SpaceFloor> space_;
  std::array<Shard, kShards> shards_;
  std::array<Subdir, 256> subdirs_;
};

}  // namespace dfs::vfs
