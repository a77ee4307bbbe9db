// SEQUENCE (§18.46) and the slot table's exactly-once semantics (§2.10.6).

#include "nfs4/state/state_manager.h"

namespace dfs::nfs4::state {

SequenceOutcome StateManager::sequence(const SequenceArgs& args, uint64_t digest,
                                       const std::shared_ptr<rpc::Connection>& conn,
                                       size_t request_size, size_t op_count, size_t min_reply_size,
                                       SequenceOk& out) {
  SequenceOutcome res;
  res.session = sessions_.find(args.sessionid);
  if (!res.session) {
    res.status = NFS4ERR_BADSESSION;
    return res;
  }
  Session& s = *res.session;
  std::lock_guard slock(s.mu);
  if (s.destroyed) {
    res.status = NFS4ERR_BADSESSION;
    return res;
  }
  if (args.slotid >= s.slots.size()) {
    res.status = NFS4ERR_BADSLOT;
    return res;
  }
  Slot& slot = s.slots[args.slotid];
  auto report = [&] {
    uint32_t status_flags = 0;
    // §18.46.3: the client asked for a back channel and no connection serves it any more,
    // or the one there is did not answer.
    if (s.wants_back_channel && (s.cb_path_down || !s.has_back_channel_locked())) {
      status_flags |= SEQ4_STATUS_CB_PATH_DOWN_SESSION;
      if (s.client->cb_paths_down.load(std::memory_order_relaxed) >=
          s.client->session_count.load(std::memory_order_relaxed)) {
        status_flags |= SEQ4_STATUS_CB_PATH_DOWN;
      }
    }
    if (s.cb_fault) status_flags |= SEQ4_STATUS_BACKCHANNEL_FAULT;
    if (s.client->revoked_delegations.load(std::memory_order_relaxed) > 0) {
      status_flags |= SEQ4_STATUS_RECALLABLE_STATE_REVOKED;
    }
    out.sessionid = args.sessionid;
    out.sequenceid = args.sequenceid;
    out.slotid = args.slotid;
    out.highest_slotid = static_cast<uint32_t>(s.slots.size() - 1);
    out.target_highest_slotid = static_cast<uint32_t>(s.slots.size() - 1);
    out.status_flags = status_flags;
  };
  // A fresh slot has no last request: its seqid 0 is not one a retry can match.
  if (args.sequenceid == slot.seqid && slot.used) {
    // A retry of the last request on this slot (§2.10.6.1.3).
    if (slot.in_use) {
      res.status = NFS4ERR_DELAY;
    } else if (slot.digest != digest) {
      res.status = NFS4ERR_SEQ_FALSE_RETRY;
    } else if (!slot.cached) {
      // The COMPOUND loop turns this into SEQUENCE's success plus the error on the next
      // operation (§2.10.6.1.3), so SEQUENCE's result is filled in as for the original.
      res.status = NFS4ERR_RETRY_UNCACHED_REP;
      report();
    } else {
      res.replay = true;
      res.cached_reply = slot.reply;
    }
    return res;
  }
  if (args.sequenceid != slot.seqid + 1) {  // uint32 arithmetic wraps as §2.10.6.1 requires
    res.status = NFS4ERR_SEQ_MISORDERED;
    return res;
  }
  // A connection the session does not know yet. With SP4_NONE using it associates it with
  // the session (§2.10.3.1, §18.34.3); with SP4_MACH_CRED the client must bind it with
  // BIND_CONN_TO_SESSION under its machine credential first.
  const bool bound = s.connections.count(conn->id()) != 0;
  if (!bound && s.client->protect.how == SP4_MACH_CRED) {
    res.status = NFS4ERR_CONN_NOT_BOUND_TO_SESSION;
    return res;
  }
  // Limits of the channel (§18.46.3): checked once the request is known to be new.
  if (request_size > s.fore.maxrequestsize) {
    res.status = NFS4ERR_REQ_TOO_BIG;
    return res;
  }
  if (op_count > s.fore.maxoperations) {
    res.status = NFS4ERR_TOO_MANY_OPS;
    return res;
  }
  // Even the SEQUENCE result alone must fit what the client agreed to receive and cache.
  if (min_reply_size > s.fore.maxresponsesize) {
    res.status = NFS4ERR_REP_TOO_BIG;
    return res;
  }
  if (args.cachethis && min_reply_size > s.fore.maxresponsesize_cached) {
    res.status = NFS4ERR_REP_TOO_BIG_TO_CACHE;
    return res;
  }
  // Over the per-session connection limit the request is refused before it changes the
  // slot: the client retries, on this connection once another has gone or on one of the
  // session's bound connections (docs/protocol.md).
  if (!bound) {
    if (auto st = bind_locked(s, conn, ConnDirection::kFore); st != NFS4_OK) {
      res.status = st;
      return res;
    }
  }
  slot.seqid = args.sequenceid;
  slot.used = true;
  slot.in_use = true;
  slot.cached = false;
  slot.digest = digest;
  slot.reply.clear();
  s.client->renew();

  report();
  return res;
}

void StateManager::finish_request(Session& session, uint32_t slotid, bool cache,
                                  std::span<const uint8_t> reply) {
  std::lock_guard slock(session.mu);
  if (slotid >= session.slots.size()) return;
  Slot& slot = session.slots[slotid];
  slot.in_use = false;
  slot.cached = cache;
  slot.reply.clear();
  if (cache) slot.reply.append(reply.data(), reply.size());
}

}  // namespace dfs::nfs4::state
