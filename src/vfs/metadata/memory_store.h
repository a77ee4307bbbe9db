#pragma once
// A MetadataStore in memory: the default for tests, benchmarks and scratch shares. Everything
// sits behind one shared_mutex (reads shared, changes exclusive), so each call and each batch
// is atomic; the rules of the namespace live above, in StoreFileSystem.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "vfs/metadata_store.h"

namespace dfs::vfs {

class MemoryMetadataStore final : public MetadataStore {
 public:
  static constexpr InodeId kRootId = 1;
  // NFSv4 reserves cookies 0, 1 and 2 (RFC 8881 section 18.23.3), so a directory's first
  // entry gets 3.
  static constexpr uint64_t kFirstCookie = 3;

  MemoryMetadataStore() = default;

  InodeId root() override;
  std::optional<InodeRecord> get(InodeId id) override;
  std::optional<InodeId> lookup(InodeId dir, std::string_view name) override;
  std::vector<DirEntry> list(InodeId dir, uint64_t after_cookie, size_t max_entries) override;
  bool is_empty_dir(InodeId dir) override;
  bool valid_cookie(InodeId dir, uint64_t cookie) override;
  InodeId allocate_id() override;
  Status apply(const MetadataBatch& batch) override;
  Status put(const InodeRecord& record) override;
  uint64_t inode_count() override;

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

  void ensure_root_locked();
  // The type an inode will have once the batch's puts are applied (nullopt: no such inode).
  std::optional<FileType> type_after_puts(const MetadataBatch& batch, InodeId id) const;
  Status validate(const MetadataBatch& batch) const;

  std::shared_mutex mu_;
  std::atomic<bool> root_created_{false};
  std::unordered_map<InodeId, InodeRecord> inodes_;
  std::unordered_map<InodeId, Dir> dirs_;
  InodeId next_id_ = kRootId + 1;
};

}  // namespace dfs::vfs
