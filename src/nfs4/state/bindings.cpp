// Connections and sessions (§2.10.3.1, §2.10.5): binding by CREATE_SESSION, by SEQUENCE
// (SP4_NONE only) and by BIND_CONN_TO_SESSION (§18.34), the per-session connection limit,
// unbinding when a connection closes, DESTROY_SESSION (§18.37) and BACKCHANNEL_CTL (§18.33).

#include <spdlog/spdlog.h>

#include "nfs4/state/state_manager.h"

namespace dfs::nfs4::state {
namespace {
constexpr uint32_t kRpcsecGss = 6;  // callback_sec_parms4 flavour RPCSEC_GSS
}  // namespace

nfsstat4 StateManager::bind_locked(Session& s, const std::shared_ptr<rpc::Connection>& conn,
                                   ConnDirection dir) {
  auto it = s.connections.find(conn->id());
  if (it != s.connections.end() && !it->second.conn.expired()) {
    // A rebind: only the direction changes. Channels it loses are an explicit unbind.
    Binding& b = it->second;
    if (b.dir == dir) return NFS4_OK;
    const bool loses = (static_cast<uint8_t>(b.dir) & ~static_cast<uint8_t>(dir)) != 0;
    b.dir = dir;
    if (has_back(dir)) s.wants_back_channel = true;
    if (observer_) {
      if (loses) observer_->connection_unbound(s, UnbindReason::kExplicit);
      observer_->connection_bound(s, dir);
    }
    return NFS4_OK;
  }
  // A new binding counts against the limit, which is read live (new binds use a changed
  // setting at once). Nothing changes when it is refused.
  const uint32_t limit = settings_.get()->v4_max_connections_per_session;
  if (limit != 0 && s.connections.size() >= limit) {
    if (observer_) observer_->binding_rejected(RejectReason::kSessionLimit);
    return NFS4ERR_DELAY;
  }
  s.connections[conn->id()] = Binding{conn, dir, std::chrono::system_clock::now()};
  conn->add_bindings(1);
  if (has_back(dir)) s.wants_back_channel = true;
  {
    std::lock_guard lock(conn_mu_);
    auto& ids = conn_sessions_[conn->id()];
    if (std::find(ids.begin(), ids.end(), s.id) == ids.end()) ids.push_back(s.id);
  }
  if (observer_) observer_->connection_bound(s, dir);
  return NFS4_OK;
}

void StateManager::unbind_locked(Session& s, uint64_t conn_id, UnbindReason why) {
  auto it = s.connections.find(conn_id);
  if (it == s.connections.end()) return;
  if (auto conn = it->second.conn.lock()) conn->add_bindings(-1);
  s.connections.erase(it);
  if (observer_) observer_->connection_unbound(s, why);
}

nfsstat4 StateManager::bind_connection(const BindConnArgs& args, const Principal& principal,
                                       const std::shared_ptr<rpc::Connection>& conn,
                                       BindConnOk& out) {
  auto session = sessions_.find(args.sessionid);
  if (!session) return NFS4ERR_BADSESSION;
  // §18.34.3: with SP4_MACH_CRED (BIND_CONN_TO_SESSION enforced) only the machine
  // credential binds connections; a rogue connection cannot join the session.
  if (session->client->protect.enforces(OP_BIND_CONN_TO_SESSION) &&
      !(session->client->principal == principal)) {
    if (observer_) observer_->binding_rejected(RejectReason::kWrongCred);
    return NFS4ERR_WRONG_CRED;
  }
  // What is granted for what was asked (§18.34.3): FORE and BACK exactly; the OR_BOTH
  // requests get both channels.
  ConnDirection dir;
  channel_dir_from_server4 result;
  switch (args.dir) {
    case CDFC4_FORE:
      dir = ConnDirection::kFore;
      result = CDFS4_FORE;
      break;
    case CDFC4_BACK:
      dir = ConnDirection::kBack;
      result = CDFS4_BACK;
      break;
    case CDFC4_FORE_OR_BOTH:
    case CDFC4_BACK_OR_BOTH:
      dir = ConnDirection::kBoth;
      result = CDFS4_BOTH;
      break;
    default:
      return NFS4ERR_INVAL;
  }
  {
    std::lock_guard slock(session->mu);
    if (session->destroyed) return NFS4ERR_BADSESSION;
    // A session keeps at least one connection for its fore channel: rebinding the last one
    // to the back channel alone would leave the client no way to send requests on it.
    auto it = session->connections.find(conn->id());
    if (it != session->connections.end() && has_fore(it->second.dir) && !has_fore(dir) &&
        session->fore_connections_locked() == 1) {
      return NFS4ERR_INVAL;
    }
    if (auto st = bind_locked(*session, conn, dir); st != NFS4_OK) return st;
  }
  session->client->renew();
  out.sessionid = args.sessionid;
  out.dir = result;
  // TCP only: the connection is never in RDMA mode, whatever was asked (§18.34.3 lets the
  // server say so in the reply).
  out.use_conn_in_rdma_mode = false;
  return NFS4_OK;
}

void StateManager::connection_closed(uint64_t conn_id, UnbindReason why) {
  std::vector<SessionId> ids;
  {
    std::lock_guard lock(conn_mu_);
    auto it = conn_sessions_.find(conn_id);
    if (it == conn_sessions_.end()) return;
    ids = std::move(it->second);
    conn_sessions_.erase(it);
  }
  // The sessions live on until their leases end (§2.10.5: a client may reconnect).
  for (const auto& id : ids) {
    auto s = sessions_.find(id);
    if (!s) continue;
    std::lock_guard slock(s->mu);
    unbind_locked(*s, conn_id, why);
  }
}

nfsstat4 StateManager::destroy_session(const SessionId& id, const Principal& principal,
                                       const std::shared_ptr<rpc::Connection>& conn,
                                       const Session* current) {
  std::unique_lock lock(clients_mu_);
  auto session = sessions_.find(id);
  if (!session) return NFS4ERR_BADSESSION;
  // §18.37.3: with SP4_MACH_CRED only the machine credential destroys a session.
  if (session->client->protect.enforces(OP_DESTROY_SESSION) &&
      !(session->client->principal == principal)) {
    return NFS4ERR_WRONG_CRED;
  }
  {
    std::lock_guard slock(session->mu);
    // §18.37.3: DESTROY_SESSION MUST be sent on a connection bound to the session it
    // destroys, whatever session the COMPOUND itself runs on: another client cannot destroy
    // a session over its own connection.
    if (!session->connections.count(conn->id())) return NFS4ERR_CONN_NOT_BOUND_TO_SESSION;
    // Another request still executing on the session: let the client retry.
    size_t busy = session->in_flight_locked() - (current == session.get() ? 1 : 0);
    if (busy > 0) return NFS4ERR_DELAY;
  }
  end_session_locked(session, EndReason::kDestroyed, UnbindReason::kSessionDestroy);
  return NFS4_OK;
}

void StateManager::end_session_locked(std::shared_ptr<Session> s, EndReason why,
                                      UnbindReason unbind) {
  std::vector<uint64_t> conns;
  {
    std::lock_guard slock(s->mu);
    s->destroyed = true;
    for (const auto& [cid, b] : s->connections)
      conns.push_back(cid);
    for (uint64_t cid : conns)
      unbind_locked(*s, cid, unbind);
  }
  {
    std::lock_guard lock(conn_mu_);
    for (uint64_t cid : conns) {
      auto it = conn_sessions_.find(cid);
      if (it == conn_sessions_.end()) continue;
      std::erase(it->second, s->id);
      if (it->second.empty()) conn_sessions_.erase(it);
    }
  }
  sessions_.erase(s->id);
  reply_cache_reserved_ -= std::min(reply_cache_reserved_, s->reply_cache_reserved);
  if (auto it = reply_cache_by_address_.find(s->reply_cache_address);
      it != reply_cache_by_address_.end()) {
    it->second -= std::min(it->second, s->reply_cache_reserved);
    if (it->second == 0) reply_cache_by_address_.erase(it);
  }
  s->client->sessions.erase(s->id);
  s->client->session_count.store(static_cast<uint32_t>(s->client->sessions.size()));
  {
    std::lock_guard slock(s->mu);
    if (s->cb_path_down) s->client->cb_paths_down.fetch_sub(1, std::memory_order_relaxed);
    s->cb_path_down = false;
  }
  if (observer_) observer_->session_ended(*s, why);
}

bool StateManager::destroy_session_admin(uint64_t clientid, const SessionId& id) {
  std::unique_lock lock(clients_mu_);
  auto s = sessions_.find(id);
  if (!s || s->client->id != clientid) return false;
  end_session_locked(s, EndReason::kEvicted, UnbindReason::kSessionDestroy);
  return true;
}

nfsstat4 StateManager::backchannel_ctl(Session& session, const BackchannelCtlArgs& args) {
  // §18.33.3: RPCSEC_GSS entries name handles the server must know; this server has none
  // (no RPCSEC_GSS), so any such entry is unknown: NFS4ERR_NOENT, and nothing changes.
  for (const auto& sec : args.sec_parms) {
    if (sec.flavor == kRpcsecGss) return NFS4ERR_NOENT;
  }
  // Nothing to call back with: an empty list leaves no flavour to use (§18.33.3 takes the
  // list as CREATE_SESSION's csa_sec_parms).
  if (args.sec_parms.empty()) return NFS4ERR_INVAL;
  std::lock_guard slock(session.mu);
  // A session without a back channel has nothing to control (the client never asked for
  // one and binds none).
  if (!session.wants_back_channel) return NFS4ERR_INVAL;
  session.cb_program = args.cb_program;
  session.cb_sec = args.sec_parms;
  return NFS4_OK;
}

std::vector<std::shared_ptr<rpc::Connection>> StateManager::client_connections(
    uint64_t clientid) const {
  std::vector<std::shared_ptr<rpc::Connection>> out;
  std::shared_lock lock(clients_mu_);
  auto c = find_client_locked(clientid);
  if (!c) return out;
  for (const auto& [sid, s] : c->sessions) {
    std::lock_guard slock(s->mu);
    for (const auto& [cid, b] : s->connections) {
      auto conn = b.conn.lock();
      if (!conn) continue;
      bool seen = false;
      for (const auto& o : out)
        seen = seen || o->id() == conn->id();
      if (!seen) out.push_back(std::move(conn));
    }
  }
  return out;
}

std::vector<std::pair<SessionId, ConnDirection>> StateManager::connection_bindings(
    uint64_t conn_id) const {
  std::vector<SessionId> ids;
  {
    std::lock_guard lock(conn_mu_);
    auto it = conn_sessions_.find(conn_id);
    if (it != conn_sessions_.end()) ids = it->second;
  }
  std::vector<std::pair<SessionId, ConnDirection>> out;
  for (const auto& id : ids) {
    auto s = sessions_.find(id);
    if (!s) continue;
    std::lock_guard slock(s->mu);
    auto it = s->connections.find(conn_id);
    if (it != s->connections.end()) out.emplace_back(id, it->second.dir);
  }
  return out;
}

}  // namespace dfs::nfs4::state
