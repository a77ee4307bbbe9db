#include "nfs4/compound.h"

#include <utility>

#include "vfs/squash.h"

namespace dfs::nfs4 {

vfs::Identity Compound::identity() const {
  vfs::Identity id;
  id.uid = cred.uid;
  id.gid = cred.gid;
  id.groups = cred.groups;
  if (current.set && current.node.fs_index != vfs::Namespace::kPseudoIndex) {
    if (auto opts = svc.ns.share_options(current.node.fs_index))
      return vfs::squash(*opts, std::move(id));
  }
  return id;
}

nfsstat4 Compound::check_share_access(const vfs::Node& node) const {
  if (node.fs_index == vfs::Namespace::kPseudoIndex) return NFS4_OK;
  auto opts = svc.ns.share_options(node.fs_index);
  if (!opts) return NFS4ERR_STALE;
  return opts->admits(conn->peer(), cred.uid) ? NFS4_OK : NFS4ERR_ACCESS;
}

nfsstat4 Compound::set_current(const vfs::Node& node) {
  if (auto st = check_share_access(node); st != NFS4_OK) return st;
  auto attrs = node.fs->getattr(node.inode);
  if (!attrs.ok()) return NFS4ERR_STALE;
  auto h = svc.ns.handle(node, attrs->generation).encode();
  current.set = true;
  current.node = node;
  current.fh.len = static_cast<uint32_t>(h.size());
  std::copy(h.begin(), h.end(), current.fh.data.begin());
  return NFS4_OK;
}

nfsstat4 Compound::resolve_stateid(Stateid& s) const {
  if (!is_current_stateid(s)) return NFS4_OK;
  if (!current_stateid) return NFS4ERR_BAD_STATEID;
  s = *current_stateid;
  return NFS4_OK;
}

size_t Compound::reply_budget() const {
  size_t limit = settings->max_record_size;
  if (session) limit = std::min<size_t>(limit, session->fore.maxresponsesize);
  size_t used = reply ? reply->size() : 0;
  return used >= limit ? 0 : limit - used;
}

}  // namespace dfs::nfs4
