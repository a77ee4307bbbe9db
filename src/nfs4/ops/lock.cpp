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
  // A blocking lock that was denied (§9.6): the client will be told when a lock on the
  // file is released (CB_NOTIFY_LOCK, §20.11) instead of only polling for it.
  if (st == NFS4ERR_DENIED && (a.locktype == READW_LT || a.locktype == WRITEW_LT)) {
    std::string who;  // the waiting lock owner, as CB_NOTIFY_LOCK names it
    if (a.locker.new_lock_owner) {
      who.assign(a.locker.lock_owner.owner.begin(), a.locker.lock_owner.owner.end());
    } else if (auto o =
                   c.svc.state.lock_owner_of(*c.client(), a.locker.lock_stateid, c.current.key())) {
      who = *o;
    }
    const auto fh = c.current.fh.bytes();
    c.svc.state.add_lock_waiter(*c.client(), who, c.current.key(),
                                std::vector<uint8_t>(fh.begin(), fh.end()));
  }
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
  if (st == NFS4_OK) {
    c.current_stateid = r.ok.stateid;
    c.svc.notify_lock_waiters(c.current.key());
  }
  return st;
}

}  // namespace dfs::nfs4::ops
