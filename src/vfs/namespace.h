#pragma once
// The exported namespace: a pseudo-root joining the shares (each a FileSystem) at their
// paths, the mapping between file handles and (file system, inode), and the crossing of
// mount points in both directions. Shares can be added and removed while clients work; a
// handle into a removed share is stale.
//
// Every PUTFH resolves a handle here, from every reactor. The share table is therefore a
// published snapshot (util/published.h) that each thread reads through its own copy, whose
// file-system pointers have control blocks of their own: resolving a handle and copying the
// Node around takes no lock and writes no reference count that another thread writes.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "util/cidr.h"
#include "util/published.h"
#include "vfs/file_handle.h"
#include "vfs/file_system.h"
#include "vfs/pseudo_file_system.h"

namespace dfs::vfs {

// How a share treats its callers. Root squashing is on unless a share turns it off: client
// credentials are unauthenticated (AUTH_SYS), so trusting uid 0 is a choice to make, not a
// default (vfs/squash.h says what each option maps).
struct ShareOptions {
  bool read_only = false;
  bool root_squash = true;  // uid 0, gid 0 and group 0 become anon_uid/anon_gid
  bool all_squash = false;  // every caller becomes anon_uid/anon_gid
  uint32_t anon_uid = 65534;
  uint32_t anon_gid = 65534;
  std::vector<util::Cidr> allowed_hosts;  // empty: any host
  std::vector<uint32_t> allowed_uids;     // empty: any user

  // May a caller at `peer` (as the transport prints it) with `uid` use the share?
  bool admits(const std::string& peer, uint32_t uid) const;
};

// A position in the namespace: which file system, which inode.
struct Node {
  std::shared_ptr<FileSystem> fs;
  uint32_t fs_index = 0;  // 0 is the pseudo file system
  InodeId inode = kInvalidInode;
  bool valid() const { return fs != nullptr; }
};

struct ShareInfo {
  uint32_t index = 0;
  std::string path;
  ShareOptions options;
};

class Namespace {
 public:
  static constexpr uint32_t kPseudoIndex = 0;

  Namespace();

  // Mounts `fs` at `path` ("/" or "/a/b"); kExist if taken, kInval for a bad path. Shares
  // may be given a fixed index (from a persistent control database); 0 picks the next.
  Result<uint32_t> add_share(const std::string& path, std::shared_ptr<FileSystem> fs,
                             ShareOptions options, uint32_t index = 0);
  Status remove_share(const std::string& path);
  std::vector<ShareInfo> shares() const;
  // The share's options (shared, immutable: the hot path reads them per operation); nullptr
  // for the pseudo file system or a removed share.
  std::shared_ptr<const ShareOptions> share_options(uint32_t fs_index) const;
  // Replaces a share's options (e.g. its access lists); kNoEnt if there is no such share.
  Status set_share_options(uint32_t fs_index, ShareOptions options);

  Node root() const;
  // The file system with this index (0: the pseudo-root); nullptr if there is none.
  std::shared_ptr<FileSystem> file_system(uint32_t fs_index) const;
  // kStale if the share is gone, the inode is gone, or the generation differs.
  Result<Node> resolve(const FileHandle& fh) const;
  FileHandle handle(const Node& node, uint64_t generation) const {
    return {node.fs_index, node.inode, generation};
  }
  // Looks a name up in a directory, entering a share when the name is its mount point.
  Result<Node> lookup(const Identity& who, const Node& dir, std::string_view name) const;
  // The parent directory, leaving a share through its mount point at the share root.
  Result<Node> parent(const Node& dir) const;
  // A pseudo directory that is a mount point stands for the share's root.
  Node cross(const Node& node) const;
  // For a share root, the pseudo inode it is mounted on (mounted_on_fileid); else the inode.
  InodeId mounted_on(const Node& node) const;

 private:
  struct Share {
    ShareInfo info;
    std::shared_ptr<const ShareOptions> options;
    std::shared_ptr<FileSystem> fs;
    InodeId junction = kInvalidInode;  // pseudo inode it is mounted on (0 for "/")
  };
  // What readers see; replaced as a whole when a share is added, removed or changed.
  struct Table {
    std::shared_ptr<FileSystem> pseudo;
    std::map<uint32_t, Share> shares;       // by index
    std::map<InodeId, uint32_t> junctions;  // pseudo inode -> share index
    uint32_t root_share = 0;                // share mounted at "/", if any
  };
  static std::optional<std::string> normalise(const std::string& path);
  // A thread's copy of a table: the same file systems through handles of its own.
  static Table localize(const Table& t);

  std::shared_ptr<PseudoFileSystem> pseudo_;
  std::mutex write_mu_;  // serialises changes; readers never take it
  util::Published<Table> table_;
  uint32_t next_index_ = 1;  // under write_mu_
};

}  // namespace dfs::vfs
