#pragma once
// A MetadataStore in memory: the default for tests, benchmarks and scratch shares. Records
// and directories are spread by id over shards, each behind its own shared_mutex (reads
// shared, changes exclusive). A call touches one shard; a batch locks the shards of every id
// it names, in shard order, so each call and each batch is atomic while creates in one
// directory do not stop GETATTRs of files elsewhere. The rules of the namespace live above,
// in StoreFileSystem.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "vfs/metadata_store.h"

namespace dfs::vfs {

// Told of every change as the memory store applies it, under the shard locks that order it
// against other changes to the same records, and before the change is visible: a durable
// store writes its log here, so the log's order is the order of the changes. A status other
// than kOk refuses the change (nothing is applied).
class MetadataJournal {
 public:
  virtual ~MetadataJournal() = default;
  // `cookies[i]` is the cookie batch.add_entries[i] gets; `next_cookies` holds, for each
  // directory the batch adds to, the first cookie not yet handed out after it.
  virtual Status record_batch(const MetadataBatch& batch, std::span<const uint64_t> cookies,
                              std::span<const std::pair<InodeId, uint64_t>> next_cookies) = 0;
  virtual Status record_put(const InodeRecord& record) = 0;
  // Ids up to (not including) `limit` may be handed out before another reservation.
  virtual Status record_id_limit(InodeId limit) = 0;
};

class MemoryMetadataStore final : public MetadataStore {
 public:
  static constexpr InodeId kRootId = 1;
  // NFSv4 reserves cookies 0, 1 and 2 (RFC 8881 section 18.23.3), so a directory's first
  // entry gets 3.
  static constexpr uint64_t kFirstCookie = 3;

  MemoryMetadataStore() = default;
  // With a journal (a durable store's log), every change is recorded before it applies, and
  // ids are reserved in the journal kIdReservation at a time.
  explicit MemoryMetadataStore(MetadataJournal* journal) : journal_(journal) {}
  static constexpr InodeId kIdReservation = 4096;

  // Loading what a journal kept (at start, before the store is used; not thread-safe).
  void restore_inode(InodeRecord record);
  void restore_entry(InodeId dir, std::string name, InodeId child, uint64_t cookie);
  void restore_next_cookie(InodeId dir, uint64_t next);
  // Ids below `next` are never handed out again.
  void restore_next_id(InodeId next);

  InodeId root() override;
  Result<InodeRecord> get(InodeId id) override;
  // One lock per shard, and each shard's ids visited in the order asked.
  Result<std::vector<std::optional<InodeRecord>>> get_many(std::span<const InodeId> ids) override;
  Result<InodeId> lookup(InodeId dir, std::string_view name) override;
  Result<std::vector<DirEntry>> list(InodeId dir, uint64_t after_cookie,
                                     size_t max_entries) override;
  Result<bool> is_empty_dir(InodeId dir) override;
  Result<bool> valid_cookie(InodeId dir, uint64_t cookie) override;
  Result<InodeId> allocate_id() override;
  Status apply(const MetadataBatch& batch) override;
  Status put(const InodeRecord& record) override;
  // put without the journal (the journaled store writes it later, with journal_current).
  Status put_unjournaled(const InodeRecord& record);
  // Records the inode's current record in the journal, under its shard lock so that no
  // change to it (a removal above all) is journaled in between; nothing if it is gone.
  Status journal_current(InodeId id);
  Result<uint64_t> inode_count() override;
  Status for_each_inode(const std::function<void(const InodeRecord&)>& fn) override;

 private:
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  struct Entry {
    InodeId child;
    uint64_t cookie;
  };
  using NameIndex = std::unordered_map<std::string, Entry, NameHash, std::equal_to<>>;
  struct CookieEntry {
    const std::string* name;  // the key in by_name (unordered_map nodes never move)
    InodeId child;
  };
  // One directory's entries, indexed twice: by name for lookup, by cookie so a listing
  // resumes in O(log n) from any cookie, including the cookie of an entry removed since.
  struct Dir {
    NameIndex by_name;
    std::map<uint64_t, CookieEntry> by_cookie;
    uint64_t next_cookie = kFirstCookie;  // every cookie below this was handed out
  };

  // 64 shards: one bit each in the mask a batch locks by. With two to a few dozen threads
  // that is enough to make two unrelated calls meeting on one shard rare.
  static constexpr size_t kShards = 64;
  using ShardMask = uint64_t;
  static size_t shard_of(InodeId id) { return static_cast<size_t>(id % kShards); }
  // Ids are handed out in sequence, so their low bits spread consecutive creates over the
  // shards, and the rest numbers them densely inside a shard: hashing a shard's maps by that
  // keeps a walk over consecutive ids (a READDIR of files created together) on neighbouring
  // buckets, as one map hashed by the plain id would.
  struct IdInShard {
    size_t operator()(InodeId id) const noexcept { return static_cast<size_t>(id / kShards); }
  };
  // A directory's entries live in the shard of the directory's id, next to its record.
  struct alignas(64) Shard {
    std::shared_mutex mu;
    std::unordered_map<InodeId, InodeRecord, IdInShard> inodes;
    std::unordered_map<InodeId, Dir, IdInShard> dirs;
  };
  Shard& shard(InodeId id) { return shards_[shard_of(id)]; }
  const Shard& shard(InodeId id) const { return shards_[shard_of(id)]; }
  // The shards a batch reads or changes.
  static ShardMask shards_of(const MetadataBatch& batch);

  void ensure_root();
  // The type an inode will have once the batch's puts are applied (nullopt: no such inode).
  // The caller holds the shards of the batch.
  std::optional<FileType> type_after_puts(const MetadataBatch& batch, InodeId id) const;
  Status validate(const MetadataBatch& batch) const;
  // The cookie each added entry gets; the caller holds the shards of the batch.
  std::vector<uint64_t> assign_cookies(const MetadataBatch& batch) const;

  std::array<Shard, kShards> shards_;
  std::atomic<bool> root_created_{false};
  std::atomic<InodeId> next_id_{kRootId + 1};
  MetadataJournal* const journal_ = nullptr;
  // With a journal: ids below this are reserved in it (raised under id_mu_).
  std::mutex id_mu_;
  std::atomic<InodeId> id_limit_{0};
};

}  // namespace dfs::vfs
