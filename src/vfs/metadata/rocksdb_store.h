#pragma once
// The durable metadata store, on RocksDB (docs/architecture.md says why RocksDB). Every
// record and entry is also held in a MemoryMetadataStore, which answers all reads: a GETATTR,
// LOOKUP or READDIR never waits for the disk (nor fails for it), and reads scale as the memory
// store's do. Each
// change is written to RocksDB (its write-ahead log, not yet synced) under the memory store's
// shard locks before it becomes visible, so the log holds changes in the order they
// happened; sync() then makes everything written so far durable with one fsync of the log,
// shared by every caller waiting at the time (group commit). put_unstable (an UNSTABLE
// WRITE's size and times) changes memory only and marks the inode dirty; sync() first writes
// the dirty inodes' current records to the log. At open, the whole store is read back into
// memory.
//
// Cost: memory for every inode and entry (about 200 bytes per file plus its name), and a
// start-up time proportional to the number of files.

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_set>

#include "util/log_every.h"
#include "util/space_floor.h"
#include "vfs/metadata/memory_store.h"

namespace rocksdb {
class DB;
class Status;
class WriteBatch;
struct Options;
}  // namespace rocksdb

namespace dfs::vfs {

class RocksDbMetadataStore final : public MetadataStore, private MetadataJournal {
 public:
  // Opens (creating if needed) the store in directory `path`; throws std::runtime_error with
  // RocksDB's message when it cannot, or when the content is not a store this version wrote.
  // Creates (new names) are refused with kNoSpc when less than `free_floor` bytes would stay
  // free on its file system; nullopt: half SpaceFloor::default_floor, so that the block
  // store (which stops at the whole floor) fills first and the metadata store always has
  // room left for removals, renames and attribute changes.
  explicit RocksDbMetadataStore(const std::string& path,
                                std::optional<uint64_t> free_floor = std::nullopt);
  ~RocksDbMetadataStore() override;

  InodeId root() override { return mem_.root(); }
  Result<InodeRecord> get(InodeId id) override { return mem_.get(id); }
  Result<std::vector<std::optional<InodeRecord>>> get_many(std::span<const InodeId> ids) override {
    return mem_.get_many(ids);
  }
  Result<InodeId> lookup(InodeId dir, std::string_view name) override {
    return mem_.lookup(dir, name);
  }
  Result<std::vector<DirEntry>> list(InodeId dir, uint64_t after_cookie,
                                     size_t max_entries) override {
    return mem_.list(dir, after_cookie, max_entries);
  }
  Result<bool> is_empty_dir(InodeId dir) override { return mem_.is_empty_dir(dir); }
  Result<bool> valid_cookie(InodeId dir, uint64_t cookie) override {
    return mem_.valid_cookie(dir, cookie);
  }
  // Writes a reservation to the log every kIdReservation ids; kIo when that fails.
  Result<InodeId> allocate_id() override { return mem_.allocate_id(); }
  Status apply(const MetadataBatch& batch) override { return mem_.apply(batch); }
  Status put(const InodeRecord& record) override { return mem_.put(record); }
  // In memory now, in the log at the next sync() or close: one log write per COMMIT instead
  // of one per UNSTABLE WRITE.
  Status put_unstable(const InodeRecord& record) override;
  Result<uint64_t> inode_count() override { return mem_.inode_count(); }
  Status for_each_inode(const std::function<void(const InodeRecord&)>& fn) override {
    return mem_.for_each_inode(fn);
  }
  bool durable() const override { return true; }
  Status sync() override;

  // Disk syncs done, for tests and metrics: group commit shows as fewer syncs than callers.
  uint64_t syncs_done() const { return syncs_.load(std::memory_order_relaxed); }

 private:
  Status record_batch(const MetadataBatch& batch, std::span<const uint64_t> cookies,
                      std::span<const std::pair<InodeId, uint64_t>> next_cookies) override;
  Status record_put(const InodeRecord& record) override;
  Status record_id_limit(InodeId limit) override;
  void load();
  // Writes `wb` to the log. A write refused because the log failed earlier (a full disk
  // stops every later write, deletes included) has the database opened again and tries
  // once more, so the store works again as soon as the disk does.
  Status write(rocksdb::WriteBatch& wb);
  // One try, under db_mu_ held shared; marks the log failed if it fails.
  rocksdb::Status write_once(rocksdb::WriteBatch& wb);
  // False while the log is stopped by a failed write and the database cannot be opened
  // again yet (the disk is still full); true once it has been.
  bool log_usable();
  // Writes the records put_unstable left to the log (not synced); on failure the ones not
  // written stay dirty for the next try.
  Status write_dirty();

  // What the database was opened with, to open it again (log_usable).
  std::unique_ptr<rocksdb::Options> options_;
  std::string path_;
  // Shared by every use of db_ after the constructor; exclusive to close and open it again
  // after a failed log write (log_usable). db_ is null while it cannot be opened.
  std::shared_mutex db_mu_;
  std::unique_ptr<rocksdb::DB> db_;
  std::unique_ptr<util::SpaceFloor> space_;
  // A write to the log failed, and the database has not been opened again since. Set
  // before the failing call returns; a sync() already past its check when a concurrent
  // write fails can still reach the failed log (a window of microseconds, on a disk error
  // only).
  std::atomic<bool> log_failed_{false};
  // A full disk fails every create the same way: one line per 5 s.
  util::LogEvery write_errors_{std::chrono::seconds(5)};
  std::mutex resume_mu_;
  MemoryMetadataStore mem_{this};
  // Inodes put_unstable changed since their record was last written to the log, in shards
  // by id so that writers of different files do not share a lock.
  struct alignas(64) DirtyShard {
    std::mutex mu;
    std::unordered_set<InodeId> ids;
  };
  static constexpr size_t kDirtyShards = 64;
  // On the heap: an over-aligned member would make the store itself over-aligned, and it is
  // deleted through MetadataStore*.
  std::unique_ptr<DirtyShard[]> dirty_ = std::make_unique<DirtyShard[]>(kDirtyShards);
  // One write_dirty at a time: a sync that finds an inode no longer dirty must not go on
  // to sync the log before the caller that took it has written its record there.
  std::mutex flush_mu_;
  // Group commit: the sequence number up to which the log is known synced.
  std::mutex sync_mu_;
  uint64_t synced_seq_ = 0;
  std::atomic<uint64_t> syncs_{0};
};

}  // namespace dfs::vfs
