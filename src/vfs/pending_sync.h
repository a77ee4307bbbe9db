#pragma once
// The disk syncs that stand between a change and its answer. A file system whose stores are
// durable makes a change durable before the call that made it returns, unless the caller
// has opened a PendingSync::Scope on its thread: then the file system notes here what must
// be synced and returns at once, and the caller runs the syncs (on a thread that may block)
// before it answers. The NFS COMPOUND loop does that, so a reactor never waits for a disk
// while the reply still waits for it; every other caller gets the inline sync.

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "vfs/block_store.h"
#include "vfs/metadata_store.h"

namespace dfs::vfs {

class PendingSync {
 public:
  // Installs a PendingSync as the one the current thread's file system calls report to.
  class Scope {
   public:
    explicit Scope(PendingSync& p);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    PendingSync* previous_;
  };

  // The one installed on this thread, or nullptr.
  static PendingSync* current();

  void add_data(std::shared_ptr<BlockStore> store, InodeId id);
  void add_metadata(std::shared_ptr<MetadataStore> store);
  // Other disk work the answer waits for (a client record of the NFS state layer), run
  // after the syncs.
  void add_task(std::function<Status()> task);
  bool empty() const { return data_.empty() && metadata_.empty() && tasks_.empty(); }
  size_t size() const { return data_.size() + metadata_.size() + tasks_.size(); }
  // File content first, then metadata (so durable metadata never points at content that is
  // not), then the tasks; the first failure is returned after every one was tried.
  Status run();

 private:
  std::vector<std::pair<std::shared_ptr<BlockStore>, InodeId>> data_;
  std::vector<std::shared_ptr<MetadataStore>> metadata_;
  std::vector<std::function<Status()>> tasks_;
};

}  // namespace dfs::vfs
