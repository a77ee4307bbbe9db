#include "nfs4/program.h"

#include <spdlog/spdlog.h>

#include "nfs4/compound.h"
#include "nfs4/op_table.h"
#include "nfs4/placement.h"
#include "nfs4/request_digest.h"
#include "vfs/pending_sync.h"

namespace dfs::nfs4 {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Ops that may be first without SEQUENCE take this path; everything else needs a session.
nfsstat4 gate_first_op(const OpDescriptor& desc, uint32_t count) {
  if (!(desc.flags & kSessionExempt)) return NFS4ERR_OP_NOT_IN_SESSION;
  if ((desc.flags & kSoleOpWhenFirst) && count > 1) return NFS4ERR_NOT_ONLY_OP;
  return NFS4_OK;
}

// The result after SEQUENCE in a retry whose reply was not cached (§2.10.6.1.3): the next
// operation gets NFS4ERR_RETRY_UNCACHED_REP, except one that does not exist in this minor
// version (OP_ILLEGAL) or is not supported (NOTSUPP), which MUST NOT get it. Nothing runs.
nfsstat4 retry_uncached(xdr::Decoder& d, xdr::Encoder& e, uint32_t minor, uint32_t count,
                        uint32_t& results) {
  if (count < 2) return NFS4_OK;
  uint32_t op = 0;
  if (!d.u32(op)) return NFS4ERR_BADXDR;
  const OpDescriptor* desc = find_op(op, minor);
  nfsstat4 st = !desc                     ? NFS4ERR_OP_ILLEGAL
                : desc->run == op_notsupp ? NFS4ERR_NOTSUPP
                                          : NFS4ERR_RETRY_UNCACHED_REP;
  e.u32(desc ? op : OP_ILLEGAL);
  e.u32(st);
  ++results;
  return st;
}

// Where the parts of a COMPOUND reply that are filled in last sit in the encoded reply.
struct ReplyLayout {
  size_t start = 0;  // the COMPOUND's results begin here (after the RPC header)
  size_t status_pos = 0;
  size_t count_pos = 0;
  uint32_t results = 0;
};

// What a reply sent after call() returned needs to finish its slot and go out: the slot
// (reply cache included) is finished first, then the reply is sent.
struct SlotReply {
  Nfs4Service* svc = nullptr;
  std::shared_ptr<rpc::Connection> conn;
  std::shared_ptr<state::Session> session;
  uint32_t slotid = 0;
  bool cachethis = false;

  static SlotReply of(rpc::CallContext& ctx, Compound& c) {
    return {&c.svc, *ctx.conn, c.session, c.slotid, c.cachethis};
  }
  // `e` encodes into `buf`; the COMPOUND's results begin at `start`.
  void finish(xdr::Encoder& e, xdr::ByteBuffer&& buf, size_t start) const {
    xdr::ByteBuffer cached;
    if (cachethis) e.flatten_into(cached, start);
    svc->state.finish_request(*session, slotid, cachethis, cached.span());
    conn->send(rpc::OutboundMessage::from_encoder(e, std::move(buf)));
  }
};

// The reply of a COMPOUND whose last operation waits for a callback (Compound::deferred):
// everything before that operation's result, and what finishing it needs.
struct PendingReply {
  SlotReply slot;
  uint32_t op = 0;
  xdr::ByteBuffer prefix;  // record mark, RPC header, results so far, the op's number
  ReplyLayout at;
  OpObserver* observer = nullptr;
  SteadyClock::time_point started;
};

void finish_deferred(PendingReply& p, xdr::ByteBuffer result, nfsstat4 status) {
  xdr::ByteBuffer buf = std::move(p.prefix);
  xdr::Encoder e(buf);
  const size_t op_end = buf.size();
  buf.append(result.data(), result.size());
  // The same reply limits as for an operation that answers at once (§2.10.6.4).
  nfsstat4 limit = NFS4_OK;
  if (e.size() > p.slot.session->fore.maxresponsesize) {
    limit = NFS4ERR_REP_TOO_BIG;
  } else if (p.slot.cachethis && e.size() > p.slot.session->fore.maxresponsesize_cached) {
    limit = NFS4ERR_REP_TOO_BIG_TO_CACHE;
  }
  if (limit != NFS4_OK) {
    buf.resize(op_end);
    e.u32(limit);
    status = limit;
  }
  e.patch_u32(p.at.status_pos, status);
  e.patch_u32(p.at.count_pos, p.at.results);
  if (p.observer) {
    p.observer->op_done(p.op, status, SteadyClock::now() - p.started);
    p.observer->compound_done(status);
  }
  p.slot.finish(e, std::move(buf), p.at.start);
}

// Puts the reply so far aside (dropping what the deferring operation encoded) and starts its
// wait; the dispatcher sends nothing for this call.
void defer_reply(rpc::CallContext& ctx, Compound& c, xdr::Encoder& e, xdr::Encoder::Mark op_mark,
                 uint32_t op, const ReplyLayout& at, OpObserver* observer,
                 SteadyClock::time_point started) {
  e.rollback(op_mark);
  e.u32(op);
  auto p = std::make_shared<PendingReply>();
  p->slot = SlotReply::of(ctx, c);
  p->op = op;
  e.flatten_into(p->prefix, 0);  // no splices (may_defer): the same bytes at the same offsets
  p->at = at;
  p->observer = observer;
  p->started = started;
  ctx.reply_deferred = true;
  auto start_wait = std::move(c.deferred);
  c.deferred = nullptr;
  start_wait([p](xdr::ByteBuffer result, nfsstat4 status) {
    finish_deferred(*p, std::move(result), status);
  });
}

// The operation that first asked for a disk sync, and where its result starts in the reply
// (a logical offset: spliced data counted).
struct SyncPoint {
  size_t at = 0;
  uint32_t op = 0;
  uint32_t results = 0;  // the results up to and including it
};

// A COMPOUND answered in full whose changes must be on disk before the reply leaves
// (vfs/pending_sync.h): its reply, what finishing it needs, and the syncs.
struct SyncedReply {
  SlotReply slot;
  xdr::ByteBuffer reply;  // record mark, RPC header, the whole COMPOUND reply
  ReplyLayout at;
  SyncPoint first_sync;
  vfs::PendingSync pending;
};

// Runs on the sync pool. A sync that fails turns the reply into one that stops at the
// operation that asked for it, with NFS4ERR_IO (or NOSPC): the client must not be told that
// data is stable when it is not.
void finish_synced(SyncedReply& r) {
  vfs::Status s = r.pending.run();
  xdr::ByteBuffer buf = std::move(r.reply);
  xdr::Encoder e(buf);
  if (s != vfs::Status::kOk) {
    const nfsstat4 st = s == vfs::Status::kNoSpc ? NFS4ERR_NOSPC : NFS4ERR_IO;
    spdlog::error("connection {}: sync before the reply failed; op {} answered {}",
                  r.slot.conn->id(), r.first_sync.op, static_cast<uint32_t>(st));
    buf.resize(r.first_sync.at);
    e.u32(r.first_sync.op);
    e.u32(st);
    e.patch_u32(r.at.status_pos, st);
    e.patch_u32(r.at.count_pos, r.first_sync.results);
  }
  r.slot.finish(e, std::move(buf), r.at.start);
}

}  // namespace

std::shared_ptr<xdr::OutOfLineBytes> Nfs4Program::place(uint32_t, uint32_t procedure,
                                                        xdr::Decoder& args, size_t args_length) {
  if (procedure != kProcCompound) return nullptr;
  return place_write_data(args, args_length, vfs::ChunkPool::process_pool());
}

void Nfs4Program::on_disconnect(const std::shared_ptr<rpc::Connection>& conn) {
  svc_.state.connection_closed(conn->id(), conn->draining() ? state::UnbindReason::kDrain
                                                            : state::UnbindReason::kDisconnect);
  // Callbacks waiting for an answer on it try another back connection or fail.
  svc_.outbound.connection_closed(conn->id());
}

rpc::AcceptStat Nfs4Program::call(rpc::CallContext& ctx, xdr::Decoder& d, xdr::Encoder& e) {
  if (ctx.procedure != kProcCompound) return rpc::AcceptStat::kProcUnavail;

  const std::span<const uint8_t> args_bytes = d.rest();
  std::string tag;
  uint32_t minor = 0, count = 0;
  d.string(tag, kOpaqueLimit);
  d.u32(minor);
  d.count(count, 4);
  if (!d.ok()) return rpc::AcceptStat::kGarbageArgs;

  Compound c(svc_, ctx.cred, *ctx.conn);
  c.request_size = ctx.record_size;
  c.minorversion = minor;
  c.op_count = count;
  c.reply = &e;
  OpObserver* observer = svc_.observer();

  const auto start = e.mark();
  const size_t status_pos = e.reserve_u32();
  e.string(tag);
  const size_t count_pos = e.reserve_u32();

  nfsstat4 status = NFS4_OK;
  uint32_t results = 0;
  bool sequenced = false;
  // File systems report here what must reach the disk before this reply (rather than wait
  // for the disk on this reactor).
  vfs::PendingSync pending;
  vfs::PendingSync::Scope pending_scope(pending);
  std::optional<SyncPoint> first_sync;
  if (minor < c.settings->min_minor_version || minor > c.settings->max_minor_version) {
    status = NFS4ERR_MINOR_VERS_MISMATCH;  // §16.2.3: no operation is executed
    count = 0;
  } else if (count > c.settings->max_compound_ops) {
    status = NFS4ERR_TOO_MANY_OPS;
    count = 0;
  }

  for (uint32_t i = 0; i < count; ++i) {
    c.op_index = i;
    uint32_t op = 0;
    if (!d.u32(op)) {
      status = NFS4ERR_BADXDR;
      break;
    }
    const OpDescriptor* desc = find_op(op, minor);
    const auto op_mark = e.mark();
    const size_t op_at = e.size();
    e.u32(desc ? op : OP_ILLEGAL);
    ++results;
    nfsstat4 st = NFS4_OK;
    if (!desc) {
      st = NFS4ERR_OP_ILLEGAL;
    } else if (i == 0 && op == OP_SEQUENCE) {
      // The gate: SEQUENCE decides between executing, replaying and refusing.
      SequenceArgs sa;
      xdr::io(d, sa);
      SequenceResult sr;
      if (!d.ok()) {
        sr.status = NFS4ERR_BADXDR;
      } else {
        // The reply so far plus a SEQUENCE result: status and the fixed-size resok.
        constexpr size_t kSequenceResult = 4 + 16 + 4 * 5;
        size_t min_reply = e.size() + kSequenceResult;
        auto outcome = svc_.state.sequence(
            sa, request_digest(args_bytes, sa.cachethis, ctx.out_of_line, ctx.out_of_line_at),
            *ctx.conn, ctx.record_size, count, min_reply, sr.ok);
        if (outcome.replay) {
          // Exactly once (§2.10.6.1): the cached reply goes out again, byte for byte.
          e.rollback(start);
          e.buffer().append(outcome.cached_reply.data(), outcome.cached_reply.size());
          if (observer) observer->replay(outcome.cached_reply.size());
          return rpc::AcceptStat::kSuccess;
        }
        if (outcome.status == NFS4ERR_RETRY_UNCACHED_REP) {
          // SEQUENCE is first, so it MUST NOT fail with RETRY_UNCACHED_REP (§2.10.6.1.3): it
          // succeeds as the original did and the next operation carries the error.
          sr.status = NFS4_OK;
          xdr::io(e, sr);
          status = retry_uncached(d, e, minor, count, results);
          if (observer) observer->sequence_error(NFS4ERR_RETRY_UNCACHED_REP);
          break;
        }
        sr.status = outcome.status;
        if (sr.status == NFS4_OK) {
          c.session = std::move(outcome.session);
          c.slotid = sa.slotid;
          c.cachethis = sa.cachethis;
          sequenced = true;
        } else if (observer) {
          observer->sequence_error(sr.status);
        }
      }
      xdr::io(e, sr);
      st = sr.status;
    } else if (i == 0 && (st = gate_first_op(*desc, count)) != NFS4_OK) {
      // refused by the gate
    } else if ((desc->flags & kNeedsFh) && !c.current.set) {
      st = NFS4ERR_NOFILEHANDLE;
    } else if (c.session && c.session->client->protect.enforces(op) &&
               !(c.session->client->principal == state::Principal{ctx.cred.flavor, ctx.cred.uid})) {
      // SP4_MACH_CRED (§18.35.3): this operation must come from the machine credential.
      st = NFS4ERR_WRONG_CRED;
    } else if (c.session && e.size() + desc->reply_bound > c.session->fore.maxresponsesize) {
      st = NFS4ERR_REP_TOO_BIG;  // refused before running (§2.10.6.4)
    } else if (c.session && c.cachethis &&
               e.size() + desc->reply_bound > c.session->fore.maxresponsesize_cached) {
      st = NFS4ERR_REP_TOO_BIG_TO_CACHE;
    } else {
      auto t0 = SteadyClock::now();
      const size_t syncs_before = pending.size();
      st = desc->run(c, d, e);
      if (!first_sync && pending.size() > syncs_before) first_sync = SyncPoint{op_at, op, results};
      if (c.deferred) {
        // A deferring operation is last; what came before it and must reach the disk does so
        // here (rare: a stable WRITE and a GETATTR that waits for a delegation holder).
        if (!pending.empty() && pending.run() != vfs::Status::kOk) {
          spdlog::error("connection {}: sync before a deferred reply failed", (*ctx.conn)->id());
        }
        defer_reply(ctx, c, e, op_mark, op, {start.size, status_pos, count_pos, results}, observer,
                    t0);
        return rpc::AcceptStat::kSuccess;
      }
      if (c.session && e.size() > c.session->fore.maxresponsesize) {
        st = NFS4ERR_REP_TOO_BIG;
      } else if (c.session && c.cachethis && e.size() > c.session->fore.maxresponsesize_cached) {
        st = NFS4ERR_REP_TOO_BIG_TO_CACHE;
      }
      if (st == NFS4ERR_REP_TOO_BIG || st == NFS4ERR_REP_TOO_BIG_TO_CACHE) {
        e.rollback(op_mark);  // the result did not fit: only the status goes out
        e.u32(op);
        e.u32(st);
      }
      if (observer) observer->op_done(op, st, SteadyClock::now() - t0);
      if (st != NFS4_OK && spdlog::should_log(spdlog::level::debug)) {
        spdlog::debug("connection {}: op {} ({}/{}) -> {}", (*ctx.conn)->id(), opname(op), i + 1,
                      count, static_cast<uint32_t>(st));
      }
      status = st;
      if (st != NFS4_OK) break;
      continue;
    }
    if (!(desc && i == 0 && op == OP_SEQUENCE)) e.u32(st);
    if (observer && desc) observer->op_done(op, st, std::chrono::nanoseconds(0));
    status = st;
    if (st != NFS4_OK) break;
  }

  e.patch_u32(status_pos, status);
  e.patch_u32(count_pos, results);
  if (observer) observer->compound_done(status);
  if (!pending.empty() && sequenced) {
    // The reply is ready but may not leave before the disk has the changes: the sync pool
    // syncs (many such replies share one metadata sync), then finishes the slot and sends.
    // The slot stays busy meanwhile, so a retry of this request waits (§2.10.6.2).
    auto r = std::make_shared<SyncedReply>();
    r->slot = SlotReply::of(ctx, c);
    e.flatten_into(r->reply, 0);
    r->at = {start.size, status_pos, count_pos, results};
    r->first_sync = *first_sync;
    r->pending = std::move(pending);
    ctx.reply_deferred = true;
    svc_.sync_pool().post([r] { finish_synced(*r); });
    return rpc::AcceptStat::kSuccess;
  }
  if (!pending.empty()) {
    // Only a sequenced COMPOUND changes files (4.1 and 4.2); should one not, sync here.
    if (pending.run() != vfs::Status::kOk) spdlog::error("sync of an unsequenced request failed");
  }
  if (sequenced) {
    xdr::ByteBuffer reply;
    if (c.cachethis) e.flatten_into(reply, start.size);
    svc_.state.finish_request(*c.session, c.slotid, c.cachethis, reply.span());
  }
  return rpc::AcceptStat::kSuccess;
}

}  // namespace dfs::nfs4
