// Byte-range locking: LOCK (§18.10), LOCKT (§18.11), LOCKU (§18.12). The rules live in the
// state manager; these check the filehandle and route the stateids.

#include "nfs4/errors.h"
#include "nfs4/ops/handlers.h"

namespace dfs::nfs4::ops {

nfsstat4 lock(Compound& c, LockArgs& a, LockResult& r) {
  if (auto st = require_regular(c); st != NFS4_OK) return st;
  Stateid& s = a.locker.new_lock_owner ? a.locker.open_stateid : a.locker.lock_stateid;
  if (auto st = c.resolve_stateid(s); st != NFS4_OK) return st;
  auto st = c.svc.state.lock(*c.client(), a, c.current.key(), r);
  if (st == NFS4_OK) c.current_stateid = r.stateid;
  return st;
}

nfsstat4 lockt(Compound& c, LocktArgs& a, LocktResult& r) {
  if (auto st = require_regular(c); st != NFS4_OK) return st;
  return c.svc.state.lockt(*c.client(), a, c.current.key(), r);
}

nfsstat4 locku(Compound& c, LockuArgs& a, StateidResult& r) {
  if (auto st = require_regular(c); st != NFS4_OK) return st;
  if (auto st = c.resolve_stateid(a.stateid); st != NFS4_OK) return st;
  auto st = c.svc.state.locku(*c.client(), a, c.current.key(), r.ok.stateid);
  if (st == NFS4_OK) c.current_stateid = r.ok.stateid;
  return st;
}

}  // namespace dfs::nfs4::ops
