// WANT_DELEGATION (RFC 8881 §18.49, §10.4.7): a delegation on a file without opening it.
// Wants are not registered for later (no CB_PUSH_DELEG): a delegation that cannot be given
// now is answered OPEN_DELEGATE_NONE_EXT with the reason and no promise, as §18.49.3 asks of
// a server that does not keep wants.

#include "nfs4/errors.h"
#include "nfs4/ops/handlers.h"

namespace dfs::nfs4::ops {
namespace {

OpenDelegation none(why_no_delegation4 why) {
  OpenDelegation d;
  d.type = OPEN_DELEGATE_NONE_EXT;
  d.why = why;
  d.will_push_or_signal = false;
  return d;
}

}  // namespace

nfsstat4 want_delegation(Compound& c, WantDelegationArgs& a, WantDelegationResult& r) {
  // READ/WRITE access bits are ignored here (§18.49.3); only the want matters, and WANT_NO_DELEG
  // alone (or no want at all) expresses none.
  const uint32_t want = a.want & OPEN4_SHARE_ACCESS_WANT_DELEG_MASK;
  if ((want & ~OPEN4_SHARE_ACCESS_WANT_NO_DELEG) == 0) return NFS4ERR_INVAL;
  // Reclaims need state kept across a restart of the server or the client; this server keeps
  // none, so it is never in a grace period to reclaim in.
  if (a.claim != CLAIM_FH) return NFS4ERR_NO_GRACE;
  if (want == OPEN4_SHARE_ACCESS_WANT_CANCEL) {
    r.ok = none(WND4_CANCELLED);  // no want was registered, so none is left
    return NFS4_OK;
  }
  auto attrs = c.current.node.fs->getattr(c.current.node.inode);
  if (!attrs.ok()) return to_nfs(attrs.status());
  const bool write = want == OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG;
  if (attrs->type == vfs::FileType::kDirectory) {
    r.ok = none(WND4_IS_DIR);
    return NFS4_OK;
  }
  if (attrs->type != vfs::FileType::kRegular) {
    r.ok = none(write ? WND4_WRITE_DELEG_NOT_SUPP_FTYPE : WND4_NOT_SUPP_FTYPE);
    return NFS4_OK;
  }
  // A delegation lets its holder read (or write) without asking: only for a caller that may.
  // §18.49 has no ACCESS or ROFS error for this operation: a caller that may not gets no
  // delegation, with the reason the server declines (WND4_RESOURCE).
  const uint32_t need = write ? vfs::kAccessWrite : vfs::kAccessRead;
  auto granted = c.current.node.fs->access(c.identity(), c.current.node.inode, need);
  if (!granted.ok()) return to_nfs(granted.status());
  if ((*granted & need) != need || (write && read_only(c, c.current.node))) {
    r.ok = none(WND4_RESOURCE);
    return NFS4_OK;
  }
  // WANT_ANY_DELEG: the server's choice, a read delegation (nothing says the client writes).
  const auto type = write ? state::DelegType::kWrite : state::DelegType::kRead;
  const state::FileKey key = c.current.key();
  auto guard = c.svc.state.lock_file(key);
  if (auto refusal = offer_delegation(c, *c.client(), key, type, r.ok)) r.ok = none(*refusal);
  return NFS4_OK;
}

}  // namespace dfs::nfs4::ops
