// OPEN (§18.16), OPEN_DOWNGRADE (§18.18) and CLOSE (§18.2).

#include "nfs4/attributes.h"
#include "nfs4/errors.h"
#include "nfs4/ops/handlers.h"

namespace dfs::nfs4::ops {
namespace {

// The delegation part of the reply when none is granted: a 4.1 client that expressed a
// want (§18.16.3, OPEN4_SHARE_ACCESS_WANT_*) is told why not with OPEN_DELEGATE_NONE_EXT.
OpenDelegation no_delegation(uint32_t share_access, why_no_delegation4 why) {
  OpenDelegation d;
  uint32_t want = share_access & OPEN4_SHARE_ACCESS_WANT_DELEG_MASK;
  if (want == OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE) return d;
  d.type = OPEN_DELEGATE_NONE_EXT;
  if (want == OPEN4_SHARE_ACCESS_WANT_NO_DELEG) {
    d.why = WND4_NOT_WANTED;
  } else if (want == OPEN4_SHARE_ACCESS_WANT_CANCEL) {
    d.why = WND4_CANCELLED;
  } else {
    d.why = why;
    d.will_push_or_signal = false;
  }
  return d;
}

// Which delegation an OPEN asks for, if any: the want bits, else the server's choice from
// the access (§10.4: a write delegation for an open that writes).
std::optional<state::DelegType> wanted_delegation(uint32_t share_access) {
  const uint32_t want = share_access & OPEN4_SHARE_ACCESS_WANT_DELEG_MASK;
  const bool writes = share_access & OPEN4_SHARE_ACCESS_WRITE;
  switch (want) {
    case OPEN4_SHARE_ACCESS_WANT_READ_DELEG:
      // A read delegation cannot cover an open that writes.
      if (writes) return std::nullopt;
      return state::DelegType::kRead;
    case OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG:
      return state::DelegType::kWrite;
    case OPEN4_SHARE_ACCESS_WANT_ANY_DELEG:
    case OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE:
      return writes ? state::DelegType::kWrite : state::DelegType::kRead;
    default:  // NO_DELEG, CANCEL
      return std::nullopt;
  }
}

uint32_t access_bits_needed(uint32_t share_access) {
  uint32_t need = 0;
  if (share_access & OPEN4_SHARE_ACCESS_READ) need |= vfs::kAccessRead;
  if (share_access & OPEN4_SHARE_ACCESS_WRITE) need |= vfs::kAccessWrite;
  return need;
}

}  // namespace

std::optional<why_no_delegation4> offer_delegation(Compound& c, state::ClientRecord& client,
                                                   const state::FileKey& key, state::DelegType type,
                                                   OpenDelegation& out) {
  bool callback_ok = false;
  {
    std::lock_guard slock(c.session->mu);
    callback_ok =
        c.session->has_back_channel_locked() && !c.session->cb_path_down && !c.session->cb_fault;
  }
  auto refusal = callback_ok ? c.svc.state.delegation_refusal_locked(client, key, type)
                             : std::optional<why_no_delegation4>(WND4_RESOURCE);
  if (refusal) return refusal;
  const auto fh = c.current.fh.bytes();
  Stateid dsid = c.svc.state.grant_delegation_locked(client, c.session->id, key, type,
                                                     std::vector<uint8_t>(fh.begin(), fh.end()));
  out = OpenDelegation{};
  out.type = type == state::DelegType::kWrite ? OPEN_DELEGATE_WRITE : OPEN_DELEGATE_READ;
  out.stateid = dsid;
  out.recall = false;
  // A write delegation lets the client grow the file as it likes (§10.4.1).
  out.space_limit.limitby = 1;
  out.space_limit.filesize = UINT64_MAX;
  // nfsace4 permissions: none granted here beyond the open (the client asks ACCESS).
  out.permissions.type = 0;
  out.permissions.flag = 0;
  out.permissions.access_mask = 0;
  out.permissions.who = "";
  return std::nullopt;
}

nfsstat4 open(Compound& c, OpenArgs& a, OpenResult& r) {
  const uint32_t access = a.share_access & OPEN4_SHARE_ACCESS_BOTH;
  const uint32_t flags = a.share_access & ~OPEN4_SHARE_ACCESS_BOTH;
  // RFC 9754's WANT_DELEG_TIMESTAMPS and WANT_OPEN_XOR_DELEGATION are known and declined:
  // delegations here never carry timestamps, and an open always gets its own stateid (the
  // open_arguments attribute does not offer them).
  constexpr uint32_t kKnownFlags =
      OPEN4_SHARE_ACCESS_WANT_DELEG_MASK | OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL |
      OPEN4_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED |
      OPEN4_SHARE_ACCESS_WANT_DELEG_TIMESTAMPS | OPEN4_SHARE_ACCESS_WANT_OPEN_XOR_DELEGATION;
  if (access == 0 || (flags & ~kKnownFlags) || a.share_deny > OPEN4_SHARE_DENY_BOTH) {
    return NFS4ERR_INVAL;
  }
  const bool create = a.how.opentype == OPEN4_CREATE;
  // CLAIM_DELEGATE_CUR and CLAIM_DELEG_CUR_FH (§18.16.3): an open the client did locally
  // under its delegation, made known to the server (typically while returning it).
  const bool by_delegation =
      a.claim.type == CLAIM_DELEGATE_CUR || a.claim.type == CLAIM_DELEG_CUR_FH;
  switch (a.claim.type) {
    case CLAIM_NULL:
    case CLAIM_DELEGATE_CUR:
      break;
    case CLAIM_FH:
    case CLAIM_DELEG_CUR_FH:
      if (create) return NFS4ERR_INVAL;
      break;
    case CLAIM_PREVIOUS:
      // §9.11: a reclaim names the file by the current filehandle and cannot create it.
      if (create) return NFS4ERR_INVAL;
      break;
    default:
      return NFS4ERR_NOTSUPP;
  }

  vfs::SetAttributes set;
  if (create && a.how.mode != EXCLUSIVE4) {
    if (auto st = decode_settable(a.how.createattrs, set); st != NFS4_OK) return st;
    if (a.how.mode == EXCLUSIVE4_1 && !(a.how.createattrs.mask - exclcreat_attrs()).empty()) {
      return NFS4ERR_INVAL;
    }
  }

  state::ClientRecord& client = *c.client();
  const auto who = c.identity();
  state::OwnerKey owner{client.id, std::string(a.owner.owner.begin(), a.owner.owner.end())};
  // §8.4.2.1: a reclaim only in the grace period and only from a client that held state
  // before the restart (and has not said RECLAIM_COMPLETE). §18.51.3: before its
  // RECLAIM_COMPLETE, and for everyone while the server is in grace, a non-reclaim OPEN gets
  // NFS4ERR_GRACE, refused before it creates or truncates anything.
  const bool reclaim = a.claim.type == CLAIM_PREVIOUS;
  if (reclaim) {
    if (client.reclaim_complete || !c.svc.state.grace.may_reclaim(client.owner)) {
      return NFS4ERR_NO_GRACE;
    }
  } else if (!client.reclaim_complete || c.svc.state.grace.active()) {
    return NFS4ERR_GRACE;
  }

  // The file is found or created without the state lock (other clients' SEQUENCEs, READs and
  // OPENs of other files go on meanwhile). What must be atomic with other OPENs, the share
  // check, a truncation and recording the open, happens under it below; a truncating create
  // therefore creates without the size and truncates only once the share check passed.
  std::optional<uint64_t> truncate_to = set.size;
  set.size.reset();

  vfs::Node target;
  bool created = false;
  if (a.claim.type == CLAIM_FH || a.claim.type == CLAIM_DELEG_CUR_FH || reclaim) {
    target = c.current.node;
    auto attrs = target.fs->getattr(target.inode);
    if (!attrs.ok()) return to_nfs(attrs.status());
    if (auto st = regular_file_status(attrs->type); st != NFS4_OK) return st;
  } else {
    if (auto st = require_dir(c); st != NFS4_OK) return st;
    if (auto st = check_name(a.claim.file); st != NFS4_OK) return st;
    const vfs::Node dir = c.current.node;
    auto existing = dir.fs->lookup(who, dir.inode, a.claim.file);
    if (!existing.ok() && existing.status() != vfs::Status::kNoEnt) {
      return to_nfs(existing.status());
    }
    if (existing.ok()) {
      auto attrs = dir.fs->getattr(*existing);
      if (!attrs.ok()) return to_nfs(attrs.status());
      if (auto st = regular_file_status(attrs->type); st != NFS4_OK) return st;
    }
    bool ro = read_only(c, dir);
    if (create) {
      if (ro) return NFS4ERR_ROFS;
      vfs::CreateMode mode = a.how.mode == UNCHECKED4 ? vfs::CreateMode::kUnchecked
                             : a.how.mode == GUARDED4 ? vfs::CreateMode::kGuarded
                                                      : vfs::CreateMode::kExclusive;
      auto res = dir.fs->create_file(who, dir.inode, a.claim.file, mode, set, a.how.verifier);
      if (!res.ok()) {
        return res.status() == vfs::Status::kNotSame ? NFS4ERR_EXIST : to_nfs(res.status());
      }
      created = res->created;
      r.ok.cinfo = {true, res->dir_change.before, res->dir_change.after};
      if (created || a.how.mode == EXCLUSIVE4_1) {
        r.ok.attrset = a.how.mode == EXCLUSIVE4 ? Bitmap{} : a.how.createattrs.mask;
      } else if (truncate_to) {
        r.ok.attrset.set(FATTR4_SIZE);
      }
      target = {dir.fs, dir.fs_index, res->attrs.id};
    } else {
      if (!existing.ok()) return NFS4ERR_NOENT;
      target = {dir.fs, dir.fs_index, *existing};
      auto dattrs = dir.fs->getattr(dir.inode);
      if (dattrs.ok()) r.ok.cinfo = {true, dattrs->change, dattrs->change};
    }
    if (ro && (access & OPEN4_SHARE_ACCESS_WRITE)) return NFS4ERR_ROFS;
  }

  // The creator of a file may open it whatever its mode (as open(2) with O_CREAT does).
  if (!created) {
    uint32_t need = access_bits_needed(access);
    auto granted = target.fs->access(who, target.inode, need);
    if (!granted.ok()) return to_nfs(granted.status());
    if ((*granted & need) != need) return NFS4ERR_ACCESS;
  }

  const state::FileKey key{target.fs_index, target.inode};
  if (by_delegation) {
    if (auto st = c.svc.state.check_delegation_claim(client, a.claim.delegate_stateid, key);
        st != NFS4_OK) {
      return st;
    }
  }
  std::vector<state::Recall> recalls;
  auto guard = c.svc.state.lock_file(key);
  // Another client's delegation this open conflicts with is recalled first (§10.4.1).
  if (auto st = c.svc.state.delegation_conflict_locked(&client, key,
                                                       (access & OPEN4_SHARE_ACCESS_WRITE)
                                                           ? state::DelegAccess::kWrite
                                                           : state::DelegAccess::kRead,
                                                       state::RecallReason::kOpen, recalls);
      st != NFS4_OK) {
    guard.unlock();
    c.svc.send_recalls(recalls);
    return st;
  }
  if (auto st = c.svc.state.check_share_locked(key, owner, access, a.share_deny); st != NFS4_OK) {
    return st;
  }
  if (truncate_to && (!created || *truncate_to != 0)) {
    vfs::SetAttributes size;
    size.size = truncate_to;
    auto res = target.fs->setattr(who, target.inode, size);
    if (!res.ok()) return to_nfs(res.status());
  }
  Stateid sid;
  if (auto st = c.svc.state.open_locked(client, owner, key, access, a.share_deny, sid, reclaim);
      st != NFS4_OK) {
    return st;
  }
  r.ok.stateid = sid;
  // §18.16.4: POSIX locking semantics, and blocked locks on the file are announced with
  // CB_NOTIFY_LOCK (the client may wait for it instead of polling).
  r.ok.rflags = OPEN4_RESULT_LOCKTYPE_POSIX | OPEN4_RESULT_MAY_NOTIFY_LOCK;
  if (auto st = c.set_current(target); st != NFS4_OK) return st;
  c.current_stateid = sid;
  // A delegation for the open (§10.4), when the client may be called back (a back channel
  // that has not failed) and nobody else's state conflicts with it.
  why_no_delegation4 why = WND4_NOT_WANTED;
  // A reclaim gets back its open, not a delegation (new state, which waits for the grace
  // period to end).
  const auto type = by_delegation || reclaim ? std::nullopt : wanted_delegation(a.share_access);
  if (type) {
    if (auto refusal = offer_delegation(c, client, key, *type, r.ok.delegation)) why = *refusal;
  }
  if (r.ok.delegation.type == OPEN_DELEGATE_NONE) {
    r.ok.delegation = no_delegation(a.share_access, why);
  }
  return NFS4_OK;
}

nfsstat4 open_downgrade(Compound& c, OpenDowngradeArgs& a, StateidResult& r) {
  if (auto st = c.resolve_stateid(a.stateid); st != NFS4_OK) return st;
  auto st = c.svc.state.open_downgrade(*c.client(), a, c.current.key(), r.ok.stateid);
  if (st == NFS4_OK) c.current_stateid = r.ok.stateid;
  return st;
}

nfsstat4 close(Compound& c, StateidSeqArgs& a, StateidResult& r) {
  if (auto st = c.resolve_stateid(a.stateid); st != NFS4_OK) return st;
  auto st = c.svc.state.close(*c.client(), a.stateid, c.current.key(), r.ok.stateid);
  if (st == NFS4_OK) c.current_stateid = r.ok.stateid;
  return st;
}

}  // namespace dfs::nfs4::ops
