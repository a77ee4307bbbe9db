// Client id and session operations (RFC 5661 §18.33-§18.37, §18.46, §18.50, §18.51).

#include "nfs4/ops/handlers.h"

namespace dfs::nfs4::ops {
namespace {

state::Principal principal_of(const Compound& c) {
  return {c.cred.flavor, c.cred.uid};
}

}  // namespace

nfsstat4 exchange_id(Compound& c, ExchangeIdArgs& a, ExchangeIdResult& r) {
  if (a.client_impl_id.size() > 1) return NFS4ERR_BADXDR;
  nfsstat4 st = c.svc.state.exchange_id(a, principal_of(c), c.conn->peer(), c.minorversion, r.ok);
  if (st != NFS4_OK) return st;
  r.ok.server_owner = c.svc.server_owner();
  r.ok.server_scope = c.svc.server_scope();
  ImplId impl;
  impl.domain = "dittofs.dev";
  impl.name = c.svc.impl_name();
  r.ok.server_impl_id.push_back(impl);
  return NFS4_OK;
}

nfsstat4 create_session(Compound& c, CreateSessionArgs& a, CreateSessionResult& r) {
  nfsstat4 st = c.svc.state.create_session(a, principal_of(c), c.conn, r.ok);
  // A back channel on the connection: find out at once whether callbacks reach the client
  // (§2.10.3.1; the answer decides delegations and SEQUENCE's path flags).
  if (st == NFS4_OK && (r.ok.flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN)) {
    c.svc.callbacks.probe(r.ok.sessionid);
  }
  return st;
}

nfsstat4 destroy_session(Compound& c, SessionIdArgs& a, StatusResult&) {
  // §18.37.3: inside a session it must be the last operation when it destroys that session.
  if (c.session && c.session->id == a.sessionid && c.op_index + 1 != c.op_count) {
    return NFS4ERR_NOT_ONLY_OP;
  }
  return c.svc.state.destroy_session(a.sessionid, principal_of(c), c.conn, c.session.get());
}

nfsstat4 destroy_clientid(Compound& c, ClientIdArgs& a, StatusResult&) {
  return c.svc.state.destroy_clientid(a.clientid, principal_of(c), c.session.get());
}

nfsstat4 bind_conn_to_session(Compound& c, BindConnArgs& a, BindConnResult& r) {
  if (c.op_count != 1) return NFS4ERR_NOT_ONLY_OP;  // §18.34.3
  nfsstat4 st = c.svc.state.bind_connection(a, principal_of(c), c.conn, r.ok);
  if (st == NFS4_OK && (r.ok.dir == CDFS4_BACK || r.ok.dir == CDFS4_BOTH)) {
    c.svc.callbacks.probe(a.sessionid);  // a (new) back connection: does it work?
  }
  return st;
}

nfsstat4 backchannel_ctl(Compound& c, BackchannelCtlArgs& a, StatusResult&) {
  nfsstat4 st = c.svc.state.backchannel_ctl(*c.session, a);
  if (st == NFS4_OK) c.svc.callbacks.probe(c.session->id);
  return st;
}

nfsstat4 reclaim_complete(Compound& c, ReclaimCompleteArgs& a, StatusResult&) {
  if (a.one_fs && !c.current.set) return NFS4ERR_NOFILEHANDLE;
  return c.svc.state.reclaim_complete(*c.client(), a.one_fs);
}

// SEQUENCE anywhere but first (the first is handled by the COMPOUND gate).
nfsstat4 sequence_in_place(Compound&, SequenceArgs&, SequenceResult&) {
  return NFS4ERR_SEQUENCE_POS;
}

}  // namespace dfs::nfs4::ops
