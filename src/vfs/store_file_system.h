#pragma once
// A FileSystem over a MetadataStore (inodes and entries) and a BlockStore (content): the POSIX
// namespace rules, permission checks and attribute bookkeeping live here, once, for every pair
// of stores.
//
// Locking. Each inode record is guarded by one of a fixed set of striped locks: every
// read-modify-write of a record (setattr, and the namespace calls for each inode they change)
// holds the stripes of the inodes it changes exclusively, taken in stripe order, so a WRITE
// cannot resurrect a removed file or outlive a truncation. WRITE takes its file's stripe
// shared, so the WRITEs of many clients to one file copy their data side by side, and holds
// the stripe's record mutex only for the size/times update, so none of them loses another's
// size. The stripe lock lets a waiting exclusive locker go first (a truncation is not starved
// by a stream of WRITEs: util/writer_first_shared_mutex.h). A
// directory's entries change only with the directory's stripe held, which makes the
// check-then-apply sequences of create, remove and link race-free without a global lock: those
// take the namespace shared_mutex shared, so creates and removes in different directories run
// side by side. Rename takes it exclusive, which keeps its "not into its own subtree" walk
// over the parents of other directories race-free. Lookups take it shared; getattr, read and
// readdir take no lock of their own (each store call is atomic), which keeps the hot GETATTR
// path to a single store read.

#include <array>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>

#include "util/writer_first_shared_mutex.h"
#include "vfs/file_system.h"
#include "vfs/metadata_store.h"

namespace dfs::vfs {

class StoreFileSystem final : public FileSystem {
 public:
  static constexpr uint64_t kDefaultCapacity = uint64_t{1} << 40;  // 1 TiB reported by statfs
  static constexpr uint64_t kFilesTotal = uint64_t{1} << 32;
  static constexpr size_t kMaxSymlinkLength = 4096;  // PATH_MAX
  static constexpr uint64_t kDirectorySize = 4096;   // reported size of a directory

  StoreFileSystem(uint64_t fsid, std::shared_ptr<MetadataStore> meta,
                  std::shared_ptr<BlockStore> blocks, bool read_only = false,
                  std::optional<uint64_t> capacity = std::nullopt);

  uint64_t fsid() const override { return fsid_; }
  InodeId root() override { return root_; }
  bool read_only() const override { return read_only_; }

  Result<Attributes> getattr(InodeId id) override;
  Result<Attributes> setattr(const Identity& who, InodeId id, const SetAttributes& set,
                             std::optional<Timespec> guard_ctime = {}) override;
  Result<uint32_t> access(const Identity& who, InodeId id, uint32_t requested) override;
  Result<InodeId> lookup(const Identity& who, InodeId dir, std::string_view name) override;
  Result<InodeId> parent(InodeId dir) override;
  Result<CreateResult> create_file(const Identity& who, InodeId dir, std::string_view name,
                                   CreateMode mode, const SetAttributes& attrs,
                                   const std::array<uint8_t, 8>& verifier = {}) override;
  Result<CreateResult> create_node(const Identity& who, InodeId dir, std::string_view name,
                                   const NewNode& node) override;
  Result<DirChange> remove(const Identity& who, InodeId dir, std::string_view name) override;
  Result<RenameResult> rename(const Identity& who, InodeId from_dir, std::string_view from_name,
                              InodeId to_dir, std::string_view to_name) override;
  Result<DirChange> link(const Identity& who, InodeId file, InodeId dir,
                         std::string_view name) override;
  Result<std::string> readlink(InodeId id) override;
  Result<Listing> readdir(const Identity& who, InodeId dir, uint64_t cookie,
                          size_t max_entries) override;
  Result<ReadResult> read(InodeId id, uint64_t offset, size_t count) override;
  Result<WriteResult> write(InodeId id, uint64_t offset, std::span<const uint8_t> data,
                            bool sync) override;
  Result<WriteResult> write_out_of_line(InodeId id, uint64_t offset, xdr::OutOfLineBytes& data,
                                        bool sync) override;
  Status commit(InodeId id) override;
  Result<FsStats> statfs() override;
  void retain(InodeId id) override;
  void release(InodeId id) override;

 private:
  static constexpr size_t kStripes = 256;
  struct alignas(64) Stripe {
    util::WriterFirstSharedMutex mu;
    // Under `mu` held shared (WRITE): the inode record's read-modify-write.
    std::mutex record;
  };
  // Locks the stripes of up to four inodes (kInvalidInode entries are skipped) in stripe
  // order, so callers locking overlapping sets cannot deadlock.
  class StripeGuard {
   public:
    StripeGuard(StoreFileSystem& fs, std::initializer_list<InodeId> ids);
    ~StripeGuard();
    StripeGuard(const StripeGuard&) = delete;
    StripeGuard& operator=(const StripeGuard&) = delete;

   private:
    StoreFileSystem& fs_;
    std::array<size_t, 4> idx_{};
    size_t n_ = 0;
  };
  static size_t stripe_of(InodeId id);
  // Locks (into `guard`) the stripes of `dir` and of the inode `name` names in it, and
  // returns that inode (nullopt: no such entry) as it stands while the guard is held.
  Result<std::optional<InodeId>> lock_entry(std::optional<StripeGuard>& guard, InodeId dir,
                                            std::string_view name);
  // The inode `name` names in `dir`, nullopt when there is no such entry; a store failure
  // is the status.
  Result<std::optional<InodeId>> find_entry(InodeId dir, std::string_view name);
  // kOk for an empty directory, kNotEmpty, or the store's failure.
  Status check_empty(InodeId dir);

  // The change attribute an inode gets when it changes (RFC 8881 §10.8: clients cache by
  // it): above its last value and never below the clock in nanoseconds, so it keeps growing
  // across restarts with a persistent store. Per inode, under its stripe: no counter shared
  // by every writer of the file system.
  static uint64_t next_change(uint64_t current);
  Attributes to_attrs(const InodeRecord& r);
  // The record of `dir`, or kStale / kNotDir.
  Result<InodeRecord> load_dir(InodeId dir);
  // Marks a directory changed by a namespace operation (mtime, ctime, change).
  void touch_dir(InodeRecord& dir, Timespec t);
  // A new inode in `parent` with ownership and mode per the POSIX / BSD rules.
  Result<InodeRecord> new_record(const Identity& who, const InodeRecord& parent, FileType type,
                                 const SetAttributes& attrs, Timespec t);
  // WRITE's checks and metadata update around `store`, which puts `length` bytes at `offset`
  // into the block store; `sync`: a stable write (its record is put, not put_unstable).
  template <class StoreBytes>
  Result<WriteResult> write_with(InodeId id, uint64_t offset, size_t length, bool sync,
                                 StoreBytes&& store);

  // Durability (docs/architecture.md, "Durable stores"). Every namespace or attribute change
  // is durable when answered, a stable WRITE or COMMIT has the file's content and metadata
  // durable: synced here, or noted for the caller's PendingSync. Nothing for memory stores.
  Status settle_metadata();
  Status settle_data(InodeId id);
  template <class T>
  Result<T> settled(Result<T> r);
  // The changes themselves (the public calls settle them).
  Result<Attributes> setattr_unsettled(const Identity& who, InodeId id, const SetAttributes& set,
                                       std::optional<Timespec> guard_ctime);
  Result<CreateResult> create_file_unsettled(const Identity& who, InodeId dir,
                                             std::string_view name, CreateMode mode,
                                             const SetAttributes& attrs,
                                             const std::array<uint8_t, 8>& verifier);
  Result<CreateResult> create_node_unsettled(const Identity& who, InodeId dir,
                                             std::string_view name, const NewNode& node);
  Result<DirChange> remove_unsettled(const Identity& who, InodeId dir, std::string_view name);
  Result<RenameResult> rename_unsettled(const Identity& who, InodeId from_dir,
                                        std::string_view from_name, InodeId to_dir,
                                        std::string_view to_name);
  Result<DirChange> link_unsettled(const Identity& who, InodeId file, InodeId dir,
                                   std::string_view name);
  // At start on a durable store: orphans reclaimed, sizes reconciled with the content.
  void recover();
  // Truncates/extends a regular file's record and content to `size`.
  Status resize(InodeRecord& r, uint64_t size);

  const uint64_t fsid_;
  const std::shared_ptr<MetadataStore> meta_;
  const std::shared_ptr<BlockStore> blocks_;
  const bool read_only_;
  const uint64_t capacity_;
  InodeId root_ = kInvalidInode;
  // Stamped on every inode created by this instance: ids from a store that does not persist
  // (memory) restart after a reboot, and a stale file handle must not match a new file.
  uint64_t generation_ = 1;
  std::shared_mutex ns_mu_;
  std::array<Stripe, kStripes> stripes_;
  // Open references per inode; a file unlinked while referenced stays as an orphan record
  // (nlink 0) until the last release. In shards by inode id: every first OPEN and last CLOSE
  // of a file, and every REMOVE, looks here, and clients working on different files should
  // not take one lock word.
  static constexpr size_t kOpenShards = 64;
  struct alignas(64) OpenShard {
    std::mutex mu;
    std::unordered_map<InodeId, uint32_t> refs;
  };
  OpenShard& open_shard(InodeId id) { return open_shards_[id % kOpenShards]; }
  std::array<OpenShard, kOpenShards> open_shards_;
  bool is_open(InodeId id);
};

}  // namespace dfs::vfs
