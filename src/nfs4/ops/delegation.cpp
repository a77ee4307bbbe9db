// Delegation conflicts raised by operations that change a file or its names (RFC 8881
// §10.4.1): SETATTR, REMOVE, RENAME and LINK by another client recall the delegation and
// answer NFS4ERR_DELAY until it is returned or revoked.

#include "nfs4/ops/handlers.h"

namespace dfs::nfs4::ops {

nfsstat4 recall_conflicting(Compound& c, const state::FileKey& file, state::RecallReason why) {
  std::vector<state::Recall> recalls;
  nfsstat4 st =
      c.svc.state.delegation_conflict(c.client(), file, state::DelegAccess::kChange, why, recalls);
  c.svc.send_recalls(recalls);
  return st;
}

nfsstat4 recall_conflicting_entry(Compound& c, const vfs::Node& dir, const std::string& name) {
  auto id = dir.fs->lookup(c.identity(), dir.inode, name);
  if (!id.ok()) return NFS4_OK;  // the operation itself says what is wrong
  return recall_conflicting(c, state::FileKey{dir.fs_index, *id}, state::RecallReason::kNamespace);
}

}  // namespace dfs::nfs4::ops
