#include "nfs4/callback.h"

#include <algorithm>
#include <cstring>

#include <spdlog/spdlog.h>

#include "nfs4/attributes.h"
#include "nfs4/constants.h"
#include "xdr/xdr.h"

namespace dfs::nfs4 {
namespace {

constexpr uint32_t kCbProgramVersion = 1;  // §20: the callback program's version is 1
constexpr std::chrono::seconds kMaxTimeout{60};

template <class T>
xdr::ByteBuffer encode_args(const T& args) {
  xdr::ByteBuffer b;
  xdr::Encoder e(b);
  xdr::io(e, args);
  return b;
}

// A filehandle kept as bytes by the state layer, as the callback arguments carry it.
Fh fh_of(const std::vector<uint8_t>& bytes) {
  Fh fh;
  fh.len = static_cast<uint32_t>(std::min(bytes.size(), fh.data.size()));
  std::memcpy(fh.data.data(), bytes.data(), fh.len);
  return fh;
}

}  // namespace

size_t CallbackService::SessionIdHash::operator()(const SessionId& id) const {
  uint64_t h;
  std::memcpy(&h, id.data() + 8, sizeof h);
  return static_cast<size_t>(h);
}

CallbackService::CallbackService(state::StateManager& state, SettingsHolder& settings,
                                 rpc::OutboundCalls& calls)
    : state_(state), settings_(settings), calls_(calls) {}

void CallbackService::call(const SessionId& session, std::vector<Op> ops, Done done,
                           uint64_t clientid, int attempts) {
  Request req;
  req.max_attempts = std::clamp(attempts, 1, kMaxAttempts);
  req.ops = std::move(ops);
  req.done = std::move(done);
  req.started = Clock::now();
  req.clientid = clientid;
  bool queued = false;
  {
    std::lock_guard lock(mu_);
    // Sessions that ended leave their channel behind; forget them now and then.
    if (channels_.size() > 2 * state_.session_count() + 16) {
      for (auto it = channels_.begin(); it != channels_.end();) {
        if (!state_.find_session(it->first) && it->second.queue.empty()) {
          it = channels_.erase(it);
        } else {
          ++it;
        }
      }
    }
    Channel& ch = channels_[session];
    queued = ch.queue.size() < kMaxQueued;
    if (queued) {
      ch.queue.push_back(std::move(req));
    } else {
      ch.last_result = "queue_full";
      ch.last_at = std::chrono::system_clock::now();
    }
  }
  if (!queued) {
    // The queue was full. Bounded: the caller learns at once, and SEQUENCE tells the client
    // its path is in trouble.
    if (observer_) observer_->callback_failed("queue_full");
    set_path(session, false);
    Outcome out;
    out.failure = "queue_full";
    if (req.done) req.done(out);
    return;
  }
  pump(session);
}

void CallbackService::pump(const SessionId& session) {
  struct Launch {
    uint32_t slot;
    uint32_t seqid;
    Request req;
  };
  std::vector<Launch> launches;
  std::deque<Request> stranded;
  {
    std::lock_guard lock(mu_);
    auto it = channels_.find(session);
    if (it == channels_.end()) return;
    Channel& ch = it->second;
    if (!ch.initialized) {
      auto s = state_.find_session(session);
      const size_t n =
          s ? std::min<size_t>(kMaxSlots, std::max<uint32_t>(1, s->back.maxrequests)) : 1;
      ch.slot_seq.assign(n, 0);
      ch.slot_busy.assign(n, false);
      ch.slot_retired.assign(n, false);
      ch.usable = n;
      ch.initialized = true;
    }
    // Every slot the client has was given up on: nothing queued can ever be sent on this
    // session, so it ends now rather than wait forever.
    bool any_slot = false;
    for (uint32_t i = 0; i < ch.usable && !any_slot; ++i)
      any_slot = !ch.slot_retired[i];
    if (!any_slot) stranded.swap(ch.queue);
    while (!ch.queue.empty()) {
      uint32_t slot = UINT32_MAX;
      for (uint32_t i = 0; i < ch.usable; ++i) {
        if (!ch.slot_busy[i]) {
          slot = i;
          break;
        }
      }
      if (slot == UINT32_MAX) break;
      ch.slot_busy[slot] = true;
      launches.push_back({slot, ch.slot_seq[slot] + 1, std::move(ch.queue.front())});
      ch.queue.pop_front();
    }
  }
  for (auto& l : launches)
    dispatch(session, l.slot, l.seqid, std::move(l.req));
  if (stranded.empty()) return;
  // A backchannel fault (§18.46.3): the client repairs it by making a new session. A recall
  // that ends here is sent again later (recalls_to_resend), over whichever session then has
  // a back channel.
  set_path(session, false, true);
  for (auto& req : stranded) {
    if (observer_) observer_->callback_failed("no_slot");
    Outcome out;
    out.failure = "no_slot";
    if (req.done) req.done(out);
  }
}

std::optional<CallbackService::Route> CallbackService::route(const SessionId& session,
                                                             uint64_t avoid, std::string& why) {
  auto s = state_.find_session(session);
  if (!s) {
    why = "no_session";
    return std::nullopt;
  }
  Route r;
  std::shared_ptr<rpc::Connection> fallback;
  std::lock_guard slock(s->mu);
  if (s->destroyed) {
    why = "no_session";
    return std::nullopt;
  }
  r.program = s->cb_program;
  r.minor = s->client->minor_version;
  // The first credential we can produce (§18.36.3): AUTH_NONE or AUTH_SYS; RPCSEC_GSS needs
  // a context this server cannot have.
  bool usable = false;
  for (const auto& sec : s->cb_sec) {
    if (sec.flavor == 0) {
      r.flavor = rpc::AuthFlavor::kNone;
      usable = true;
      break;
    }
    if (sec.flavor == 1) {
      r.flavor = rpc::AuthFlavor::kSys;
      r.cred = encode_args(sec.sys);
      usable = true;
      break;
    }
  }
  if (!usable) {
    why = "security";
    return std::nullopt;
  }
  // The back connection that was active last, other than one that just failed.
  for (const auto& [id, b] : s->connections) {
    if (!state::has_back(b.dir)) continue;
    auto c = b.conn.lock();
    if (!c || c->is_closed() || c->draining()) continue;
    if (c->id() == avoid) {
      fallback = c;
      continue;
    }
    if (!r.conn || c->last_activity() > r.conn->last_activity()) r.conn = c;
  }
  if (!r.conn) r.conn = fallback;
  if (!r.conn) {
    why = "no_path";
    return std::nullopt;
  }
  return r;
}

rpc::OutboundMessage CallbackService::encode_call(uint32_t xid, const Route& r, uint32_t procedure,
                                                  const xdr::ByteBuffer& args) {
  xdr::ByteBuffer buf(256 + args.size());
  xdr::Encoder e(buf);
  e.reserve_u32();  // record mark
  rpc::CallHeader h;
  h.xid = xid;
  h.rpc_version = rpc::kRpcVersion;
  h.program = r.program;
  h.version = kCbProgramVersion;
  h.procedure = procedure;
  h.cred.flavor = r.flavor;
  h.cred.body = r.cred.span();
  rpc::encode_call_header(e, h);
  buf.append(args.data(), args.size());
  return rpc::OutboundMessage::from_encoder(e, std::move(buf));
}

void CallbackService::dispatch(const SessionId& session, uint32_t slot, uint32_t seqid,
                               Request req) {
  std::string why;
  auto r = route(session, req.avoid_conn, why);
  if (!r && why == "no_session" && move(session, slot, req)) return;
  if (!r) {
    Outcome out;
    out.failure = why;
    if (why != "no_session") set_path(session, false);
    finish(session, slot, false, req, std::move(out));
    return;
  }
  // CB_COMPOUND4args: tag, minor version, callback_ident, then CB_SEQUENCE and the ops.
  xdr::ByteBuffer args;
  {
    xdr::Encoder e(args);
    e.string("");
    e.u32(r->minor);
    e.u32(0);
    e.u32(static_cast<uint32_t>(1 + req.ops.size()));
    e.u32(OP_CB_SEQUENCE);
    CbSequenceArgs seq;
    seq.sessionid = session;
    seq.sequenceid = seqid;
    seq.slotid = slot;
    {
      std::lock_guard lock(mu_);
      auto it = channels_.find(session);
      seq.highest_slotid = it == channels_.end() ? 0 : static_cast<uint32_t>(it->second.usable - 1);
    }
    xdr::io(e, seq);
    for (const auto& op : req.ops) {
      e.u32(op.op);
      e.buffer().append(op.args.data(), op.args.size());
    }
  }
  const uint32_t xid = calls_.next_xid();
  auto timeout = std::chrono::seconds(settings_.get()->callback_timeout) * (1 << req.attempts);
  if (timeout > kMaxTimeout) timeout = kMaxTimeout;
  const uint64_t conn_id = r->conn->id();
  if (req.attempts == 0 && observer_) {
    observer_->callback_sent(req.ops.empty() ? OP_CB_SEQUENCE : req.ops.front().op);
  }
  // The request travels with the call and comes back to on_reply, whatever happens.
  auto shared = std::make_shared<Request>(std::move(req));
  calls_.send(r->conn, xid, encode_call(xid, *r, kCbProcCompound, args),
              std::chrono::duration_cast<std::chrono::milliseconds>(timeout),
              [this, session, slot, seqid, shared, conn_id](std::optional<rpc::CallReply> reply,
                                                            rpc::CallFailure) {
                on_reply(session, slot, seqid, std::move(*shared), conn_id, std::move(reply));
              });
}

void CallbackService::on_reply(const SessionId& session, uint32_t slot, uint32_t seqid, Request req,
                               uint64_t conn_id, std::optional<rpc::CallReply> reply) {
  auto retry = [&](bool other_connection) {
    req.attempts++;
    if (other_connection) req.avoid_conn = conn_id;
    if (observer_) observer_->callback_retried();
    dispatch(session, slot, seqid, std::move(req));
  };
  if (!reply) {
    // No answer: try again (another connection if there is one) with a longer timeout. The
    // client may have executed it, so the same slot and sequence id go out again (§2.10.6.1).
    if (req.attempts + 1 < req.max_attempts) return retry(true);
    // Given up. The slot's state at the client is unknown, so it is not used again.
    Outcome out;
    out.failure = "timeout";
    set_path(session, false);
    finish(session, slot, true, req, std::move(out));
    return;
  }
  Outcome out;
  if (!reply->accepted_success()) {
    out.failure = "rpc";  // e.g. PROG_UNAVAIL: no callback service at the client
    set_path(session, false);
    finish(session, slot, false, req, std::move(out));
    return;
  }
  xdr::Decoder d(reply->body());
  uint32_t status = 0, count = 0, op = 0;
  std::string tag;
  d.u32(status);
  d.string(tag, kOpaqueLimit);
  d.u32(count);
  d.u32(op);
  CbSequenceResult seq;
  if (d.ok() && op == OP_CB_SEQUENCE) xdr::io(d, seq);
  if (!d.ok() || op != OP_CB_SEQUENCE || count == 0) {
    out.failure = "bad_reply";
    finish(session, slot, false, req, std::move(out));
    return;
  }
  switch (seq.status) {
    case NFS4_OK:
      break;
    case NFS4ERR_DELAY:
      if (req.attempts + 1 < req.max_attempts) return retry(false);
      out.failure = "cb_sequence";
      finish(session, slot, false, req, std::move(out));
      return;
    case NFS4ERR_BADSLOT: {
      // The client has fewer slots than it offered: use fewer, and send this one again.
      {
        std::lock_guard lock(mu_);
        auto it = channels_.find(session);
        if (it != channels_.end() && slot > 0)
          it->second.usable = std::min<size_t>(it->second.usable, slot);
      }
      if (slot > 0 && req.attempts + 1 < req.max_attempts) {
        req.attempts++;
        {
          std::lock_guard lock(mu_);
          auto it = channels_.find(session);
          if (it != channels_.end()) {
            it->second.slot_busy[slot] = false;
            it->second.queue.push_front(std::move(req));
          }
        }
        pump(session);
        return;
      }
      out.failure = "cb_sequence";
      set_path(session, false, true);
      finish(session, slot, true, req, std::move(out));
      return;
    }
    case NFS4ERR_SEQ_MISORDERED:
      // The client and we disagree about the slot's sequence: a backchannel fault, which
      // the client must repair by making a new session (§18.46.3).
      out.failure = "cb_sequence";
      set_path(session, false, true);
      finish(session, slot, true, req, std::move(out));
      return;
    case NFS4ERR_BADSESSION:
      // The client no longer knows the session: another of its sessions may carry it.
      set_path(session, false);
      if (move(session, slot, req)) return;
      out.failure = "cb_sequence";
      finish(session, slot, false, req, std::move(out));
      return;
    default:
      out.failure = "cb_sequence";
      set_path(session, false);
      finish(session, slot, false, req, std::move(out));
      return;
  }
  {
    std::lock_guard lock(mu_);
    auto it = channels_.find(session);
    if (it != channels_.end() && slot < it->second.slot_seq.size())
      it->second.slot_seq[slot] = seqid;
  }
  set_path(session, true);
  out.delivered = true;
  out.status = static_cast<nfsstat4>(status);
  auto rest = d.rest();
  out.results.append(rest.data(), rest.size());
  finish(session, slot, false, req, std::move(out));
}

void CallbackService::finish(const SessionId& session, uint32_t slot, bool retire, Request& req,
                             Outcome out) {
  {
    std::lock_guard lock(mu_);
    auto it = channels_.find(session);
    if (it != channels_.end()) {
      Channel& ch = it->second;
      if (slot < ch.slot_busy.size()) {
        // A retired slot stays busy: never used again.
        if (!retire) ch.slot_busy[slot] = false;
        if (retire) ch.slot_retired[slot] = true;
      }
      ch.last_result = out.delivered ? status_name(out.status) : out.failure;
      ch.last_at = std::chrono::system_clock::now();
      ch.sent++;
    }
  }
  if (observer_) {
    if (out.delivered) {
      observer_->callback_done(Clock::now() - req.started);
    } else {
      observer_->callback_failed(out.failure);
    }
  }
  if (!out.delivered) {
    spdlog::debug("callback on session {:02x}{:02x}..: {}", session[8], session[9], out.failure);
  }
  if (req.done) req.done(out);
  pump(session);
}

bool CallbackService::move(const SessionId& session, uint32_t slot, Request& req) {
  constexpr int kMaxMoves = 3;
  if (req.clientid == 0 || req.moves >= kMaxMoves) return false;
  auto other = state_.callback_session(req.clientid, SessionId{});
  if (!other || *other == session) return false;
  {
    std::lock_guard lock(mu_);
    auto it = channels_.find(session);
    if (it != channels_.end() && slot < it->second.slot_busy.size()) {
      it->second.slot_busy[slot] = false;
    }
    req.moves++;
    req.attempts = 0;
    req.avoid_conn = 0;
    channels_[*other].queue.push_back(std::move(req));
  }
  pump(*other);
  return true;
}

void CallbackService::set_path(const SessionId& session, bool up, bool fault) {
  auto s = state_.find_session(session);
  if (!s) return;
  std::lock_guard slock(s->mu);
  if (s->cb_path_down == up) {  // a change
    if (up) {
      s->client->cb_paths_down.fetch_sub(1, std::memory_order_relaxed);
    } else {
      s->client->cb_paths_down.fetch_add(1, std::memory_order_relaxed);
    }
    s->cb_path_down = !up;
  }
  if (fault) s->cb_fault = true;
}

void CallbackService::probe(const SessionId& session) {
  std::string why;
  auto r = route(session, 0, why);
  if (!r) {
    if (why != "no_session") set_path(session, false);
    return;
  }
  const uint32_t xid = calls_.next_xid();
  const auto timeout = std::chrono::seconds(settings_.get()->callback_timeout);
  if (observer_) observer_->callback_sent(0);  // CB_NULL
  const auto started = Clock::now();
  calls_.send(
      r->conn, xid, encode_call(xid, *r, kCbProcNull, xdr::ByteBuffer()),
      std::chrono::duration_cast<std::chrono::milliseconds>(timeout),
      [this, session, started](std::optional<rpc::CallReply> reply, rpc::CallFailure why) {
        const bool ok = reply && reply->accepted_success();
        set_path(session, ok);
        std::lock_guard lock(mu_);
        Channel& ch = channels_[session];
        ch.last_result =
            ok ? "CB_NULL ok"
               : (reply ? "rpc" : (why == rpc::CallFailure::kTimeout ? "timeout" : "closed"));
        ch.last_at = std::chrono::system_clock::now();
        if (observer_) {
          if (ok) {
            observer_->callback_done(Clock::now() - started);
          } else {
            observer_->callback_failed(ch.last_result);
          }
        }
      });
}

void CallbackService::recall(const state::Recall& r) {
  auto sid = state_.callback_session(r.clientid, r.session);
  if (!sid) {
    // No back channel now: tried again later; revoked when its lease after the recall runs
    // out.
    if (observer_) observer_->callback_failed("no_path");
    state_.recall_failed(r.stateid);
    return;
  }
  CbRecallArgs args;
  args.stateid = r.stateid;
  args.truncate = false;
  args.fh = fh_of(r.fh);
  std::vector<Op> ops;
  ops.push_back({OP_CB_RECALL, encode_args(args)});
  // A recall that does not get through is sent again later (recalls_to_resend): the holder
  // may make a new session, or its path may come back, before the delegation is revoked.
  call(
      *sid, std::move(ops),
      [this, stateid = r.stateid](const Outcome& out) {
        if (!out.delivered || out.status != NFS4_OK) state_.recall_failed(stateid);
      },
      r.clientid);
}

void CallbackService::getattr(const state::Recall& holder,
                              std::function<void(std::optional<HolderAttrs>)> done) {
  auto sid = state_.callback_session(holder.clientid, holder.session);
  if (!sid) {
    if (observer_) observer_->callback_failed("no_path");
    done(std::nullopt);
    return;
  }
  CbGetattrArgs args;
  args.fh = fh_of(holder.fh);
  args.attr_request = Bitmap{FATTR4_CHANGE, FATTR4_SIZE};
  std::vector<Op> ops;
  ops.push_back({OP_CB_GETATTR, encode_args(args)});
  call(
      *sid, std::move(ops),
      [done = std::move(done)](const Outcome& out) {
        done(out.delivered && out.status == NFS4_OK ? decode_holder_attrs(out.results.span())
                                                    : std::nullopt);
      },
      holder.clientid, 1);
}

std::optional<CallbackService::HolderAttrs> CallbackService::decode_holder_attrs(
    std::span<const uint8_t> results) {
  xdr::Decoder d(results);
  uint32_t op = 0, status = 0;
  d.u32(op);
  d.u32(status);
  if (!d.ok() || op != OP_CB_GETATTR || status != NFS4_OK) return std::nullopt;
  CbGetattrOk ok;
  xdr::io(d, ok);
  if (!d.ok()) return std::nullopt;
  // Values come in attribute-number order; change (3) and size (4) are the first asked for,
  // and an attribute before them (0-2) is not one we can step over.
  const Bitmap& m = ok.attributes.mask;
  if (m.test(0) || m.test(1) || m.test(2) || !m.test(FATTR4_CHANGE) || !m.test(FATTR4_SIZE))
    return std::nullopt;
  xdr::Decoder v(ok.attributes.vals.span());
  HolderAttrs out;
  v.u64(out.change);
  v.u64(out.size);
  if (!v.ok()) return std::nullopt;
  return out;
}

void CallbackService::notify_lock(const state::LockNotice& n) {
  auto sid = state_.callback_session(n.clientid, SessionId{});
  if (!sid) return;
  CbNotifyLockArgs args;
  args.fh = fh_of(n.fh);
  args.lock_owner.clientid = n.clientid;
  args.lock_owner.owner.assign(n.owner.begin(), n.owner.end());
  std::vector<Op> ops;
  ops.push_back({OP_CB_NOTIFY_LOCK, encode_args(args)});
  call(*sid, std::move(ops), nullptr, n.clientid);
}

void CallbackService::recall_any(uint64_t clientid, uint32_t objects_to_keep) {
  auto sid = state_.callback_session(clientid, SessionId{});
  if (!sid) return;
  CbRecallAnyArgs args;
  args.objects_to_keep = objects_to_keep;
  args.type_mask.set(RCA4_TYPE_MASK_RDATA_DLG);
  args.type_mask.set(RCA4_TYPE_MASK_WDATA_DLG);
  std::vector<Op> ops;
  ops.push_back({OP_CB_RECALL_ANY, encode_args(args)});
  call(*sid, std::move(ops));
}

CallbackService::Status CallbackService::status(const SessionId& session) const {
  Status st;
  if (auto s = state_.find_session(session)) {
    std::lock_guard slock(s->mu);
    st.program = s->cb_program;
    st.path_up = s->has_back_channel_locked() && !s->cb_path_down;
    st.fault = s->cb_fault;
    st.slots = std::min<size_t>(kMaxSlots, std::max<uint32_t>(1, s->back.maxrequests));
  }
  std::lock_guard lock(mu_);
  auto it = channels_.find(session);
  if (it == channels_.end()) return st;
  const Channel& ch = it->second;
  if (ch.initialized) st.slots = ch.usable;
  for (size_t i = 0; i < ch.slot_busy.size(); ++i)
    st.in_flight += ch.slot_busy[i] && !ch.slot_retired[i] ? 1 : 0;
  st.queued = ch.queue.size();
  st.last_result = ch.last_result;
  st.last_at = ch.last_at;
  st.sent = ch.sent;
  return st;
}

}  // namespace dfs::nfs4
