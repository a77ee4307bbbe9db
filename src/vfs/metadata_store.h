#pragma once
// Where inode records and directory entries live. The POSIX rules sit above this interface
// (in StoreFileSystem); a store only keeps records and applies batches of changes atomically,
// so that a persistent implementation (SQLite, RocksDB, PostgreSQL) can make each namespace
// change one transaction.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vfs/types.h"

namespace dfs::vfs {

struct InodeRecord {
  InodeId id = kInvalidInode;
  FileType type = FileType::kRegular;
  uint32_t mode = 0;
  uint32_t nlink = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  Timespec atime, mtime, ctime, btime;
  DeviceNumber rdev;
  uint64_t change = 0;
  uint64_t generation = 0;
  InodeId parent = kInvalidInode;  // directories only: the one parent (for "..")
  std::string symlink_target;      // symlinks only
  // Exclusive create (NFSv4 EXCLUSIVE4/EXCLUSIVE4_1): the verifier the file was created with,
  // kept until the first SETATTR or WRITE so a retried create can be recognised.
  std::optional<std::array<uint8_t, 8>> create_verifier;
};

// One atomic group of changes. Applied in this order: inode puts, entry removals, entry
// additions, inode deletions.
struct MetadataBatch {
  struct EntryAdd {
    InodeId dir;
    std::string name;
    InodeId child;
  };
  struct EntryRemove {
    InodeId dir;
    std::string name;
  };
  std::vector<InodeRecord> put_inodes;
  std::vector<EntryRemove> remove_entries;
  std::vector<EntryAdd> add_entries;
  std::vector<InodeId> delete_inodes;
};

// Every call that touches stored data reports failure: a store whose reads go to a disk or a
// server (a cache miss, PostgreSQL, S3) can fail to read as well as to write. kIo (or kNoSpc
// for a write on a full disk) is what a failed call answers; the store logs the cause, and
// the file system passes the status to the client (NFS4ERR_IO, NFS4ERR_NOSPC), so that no
// store error ever ends the server. Absence is a status too: get answers kStale for an inode
// that does not exist, lookup kNoEnt for a name that does not.
class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // The root directory's id. The store creates the root record (mode 0755, owner root) when
  // it is opened for the first time, and a store that cannot do so fails to open; after that
  // this does no I/O.
  virtual InodeId root() = 0;
  virtual Result<InodeRecord> get(InodeId id) = 0;
  // The records of many inodes at once (READDIR's attributes), in the order asked, nullopt
  // for one that does not exist; each is read atomically, the set as a whole is not. A store
  // can do better than one get() each.
  virtual Result<std::vector<std::optional<InodeRecord>>> get_many(std::span<const InodeId> ids) {
    std::vector<std::optional<InodeRecord>> out;
    out.reserve(ids.size());
    for (InodeId id : ids) {
      Result<InodeRecord> r = get(id);
      if (r.ok()) {
        out.emplace_back(std::move(*r));
      } else if (r.status() == Status::kStale) {
        out.emplace_back(std::nullopt);
      } else {
        return r.status();
      }
    }
    return out;
  }
  virtual Result<InodeId> lookup(InodeId dir, std::string_view name) = 0;
  // Entries of `dir` in cookie order, starting after `after_cookie` (0: from the start).
  // Cookies are stable for the life of an entry and never reused within a directory; values
  // 0, 1 and 2 are never handed out (NFSv4 reserves them).
  virtual Result<std::vector<DirEntry>> list(InodeId dir, uint64_t after_cookie,
                                             size_t max_entries) = 0;
  virtual Result<bool> is_empty_dir(InodeId dir) = 0;
  // True if `cookie` was handed out for `dir` and could still be resumed from.
  virtual Result<bool> valid_cookie(InodeId dir, uint64_t cookie) = 0;
  // A durable store reserves ids on disk now and then, so handing one out can fail too.
  virtual Result<InodeId> allocate_id() = 0;
  virtual Status apply(const MetadataBatch& batch) = 0;
  // Shortcut for the hot path (WRITE updating size and times): one inode put.
  virtual Status put(const InodeRecord& record) = 0;
  // A put that need not survive a crash before the next sync(): the size and times an
  // UNSTABLE WRITE leaves (RFC 8881 §18.32.3: data not yet committed may be lost, and the
  // client sends it again when the write verifier changes). Visible at once like put; a
  // durable store may write it out only at the next sync() (or when it closes).
  virtual Status put_unstable(const InodeRecord& record) { return put(record); }
  virtual Result<uint64_t> inode_count() = 0;

  // Durability. A store that keeps its content across restarts says so; for it, every change
  // applied (apply, put) before a call to sync() is on stable storage when sync() returns
  // kOk. Concurrent callers may share one disk sync (group commit). kIo: the store could not
  // make the changes durable (they stay applied in memory and are retried by the next sync).
  virtual bool durable() const { return false; }
  virtual Status sync() { return Status::kOk; }
  // Every inode record, for start-up recovery (sizes checked against the block store,
  // orphans reclaimed). The caller makes sure nothing changes the store meanwhile. A failure
  // part way stops the walk.
  virtual Status for_each_inode(const std::function<void(const InodeRecord&)>& fn) = 0;
};

}  // namespace dfs::vfs
