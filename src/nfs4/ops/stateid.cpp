// Stateid management: TEST_STATEID (§18.48), FREE_STATEID (§18.38), DELEGRETURN (§18.6).

#include "nfs4/ops/handlers.h"

namespace dfs::nfs4::ops {

nfsstat4 test_stateid(Compound& c, TestStateidArgs& a, TestStateidResult& r) {
  r.ok.status_codes.reserve(a.stateids.size());
  for (const auto& s : a.stateids) {
    r.ok.status_codes.push_back(c.svc.state.test_stateid(*c.client(), s));
  }
  return NFS4_OK;
}

nfsstat4 free_stateid(Compound& c, StateidArgs& a, StatusResult&) {
  if (auto st = c.resolve_stateid(a.stateid); st != NFS4_OK) return st;
  return c.svc.state.free_stateid(*c.client(), a.stateid);
}

nfsstat4 delegreturn(Compound& c, StateidArgs& a, StatusResult&) {
  if (auto st = c.resolve_stateid(a.stateid); st != NFS4_OK) return st;
  return c.svc.state.delegreturn(*c.client(), a.stateid, c.current.key());
}

}  // namespace dfs::nfs4::ops
