#pragma once
// The pseudo file system (RFC 5661 §7.3): a read-only tree of directories that joins the
// shares into one namespace. Its directories exist only to lead to share mount points; it
// holds no files and refuses every change.

#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "vfs/file_system.h"

namespace dfs::vfs {

class PseudoFileSystem final : public FileSystem {
 public:
  explicit PseudoFileSystem(uint64_t fsid = 0);

  // Makes sure the directories of `path` ("/a/b") exist and returns the last one's id.
  InodeId ensure_path(const std::string& path);
  // Removes directories along `path` that lead nowhere any more, deepest first.
  // `in_use(id)` says whether an id is still a mount point.
  template <class InUse>
  void prune(InodeId id, InUse&& in_use);

  uint64_t fsid() const override { return fsid_; }
  InodeId root() override { return kRootId; }
  bool read_only() const override { return true; }
  Result<Attributes> getattr(InodeId id) override;
  Result<Attributes> setattr(const Identity&, InodeId, const SetAttributes&,
                             std::optional<Timespec>) override {
    return Status::kRoFs;
  }
  Result<uint32_t> access(const Identity& who, InodeId id, uint32_t requested) override;
  Result<InodeId> lookup(const Identity& who, InodeId dir, std::string_view name) override;
  Result<InodeId> parent(InodeId dir) override;
  Result<CreateResult> create_file(const Identity&, InodeId, std::string_view, CreateMode,
                                   const SetAttributes&, const std::array<uint8_t, 8>&) override {
    return Status::kRoFs;
  }
  Result<CreateResult> create_node(const Identity&, InodeId, std::string_view,
                                   const NewNode&) override {
    return Status::kRoFs;
  }
  Result<DirChange> remove(const Identity&, InodeId, std::string_view) override {
    return Status::kRoFs;
  }
  Result<RenameResult> rename(const Identity&, InodeId, std::string_view, InodeId,
                              std::string_view) override {
    return Status::kRoFs;
  }
  Result<DirChange> link(const Identity&, InodeId, InodeId, std::string_view) override {
    return Status::kRoFs;
  }
  Result<std::string> readlink(InodeId) override { return Status::kInval; }
  Result<Listing> readdir(const Identity& who, InodeId dir, uint64_t cookie,
                          size_t max_entries) override;
  Result<ReadResult> read(InodeId id, uint64_t, size_t) override;
  Result<WriteResult> write(InodeId, uint64_t, std::span<const uint8_t>, bool) override {
    return Status::kRoFs;
  }
  Status commit(InodeId) override { return Status::kOk; }
  Result<FsStats> statfs() override { return FsStats{}; }

  // Removes one directory that has no children (used by prune).
  void remove_dir(InodeId id);
  bool has_children(InodeId id) const;

 private:
  static constexpr InodeId kRootId = 1;
  struct Dir {
    std::string name;
    InodeId parent;
    std::map<std::string, InodeId, std::less<>> children;
    Attributes attrs;
  };
  Attributes make_attrs(InodeId id) const;

  const uint64_t fsid_;
  mutable std::shared_mutex mu_;
  std::unordered_map<InodeId, Dir> dirs_;
  InodeId next_id_ = kRootId + 1;
  uint64_t change_ = 1;
};

template <class InUse>
void PseudoFileSystem::prune(InodeId id, InUse&& in_use) {
  while (id != kRootId && !has_children(id) && !in_use(id)) {
    auto p = parent(id);
    remove_dir(id);
    if (!p.ok()) return;
    id = *p;
  }
}

}  // namespace dfs::vfs
