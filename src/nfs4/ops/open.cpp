// OPEN (§18.16), OPEN_DOWNGRADE (§18.18) and CLOSE (§18.2).

#include "nfs4/attributes.h"
#include "nfs4/errors.h"
#include "nfs4/ops/handlers.h"

namespace dfs::nfs4::ops {
namespace {

// The delegation part of the reply: none is granted yet. A 4.1 client that asked for one
// through the WANT bits is told why not (§18.16.3, OPEN_DELEGATE_NONE_EXT).
OpenDelegation no_delegation(uint32_t share_access) {
  OpenDelegation d;
  uint32_t want = share_access & OPEN4_SHARE_ACCESS_WANT_DELEG_MASK;
  if (want == OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE) return d;
  d.type = OPEN_DELEGATE_NONE_EXT;
  if (want == OPEN4_SHARE_ACCESS_WANT_NO_DELEG) {
    d.why = WND4_NOT_WANTED;
  } else if (want == OPEN4_SHARE_ACCESS_WANT_CANCEL) {
    d.why = WND4_CANCELLED;
  } else {
    d.why = WND4_RESOURCE;
    d.will_push_or_signal = false;
  }
  return d;
}

uint32_t access_bits_needed(uint32_t share_access) {
  uint32_t need = 0;
  if (share_access & OPEN4_SHARE_ACCESS_READ) need |= vfs::kAccessRead;
  if (share_access & OPEN4_SHARE_ACCESS_WRITE) need |= vfs::kAccessWrite;
  return need;
}

}  // namespace

nfsstat4 open(Compound& c, OpenArgs& a, OpenResult& r) {
  const uint32_t access = a.share_access & OPEN4_SHARE_ACCESS_BOTH;
  const uint32_t flags = a.share_access & ~OPEN4_SHARE_ACCESS_BOTH;
  constexpr uint32_t kKnownFlags = OPEN4_SHARE_ACCESS_WANT_DELEG_MASK |
                                   OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL |
                                   OPEN4_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED;
  if (access == 0 || (flags & ~kKnownFlags) || a.share_deny > OPEN4_SHARE_DENY_BOTH) {
    return NFS4ERR_INVAL;
  }
  const bool create = a.how.opentype == OPEN4_CREATE;
  switch (a.claim.type) {
    case CLAIM_NULL:
      break;
    case CLAIM_FH:
      if (create) return NFS4ERR_INVAL;
      break;
    case CLAIM_PREVIOUS:
      return NFS4ERR_NO_GRACE;  // no state survives a restart yet
    case CLAIM_DELEGATE_CUR:
    case CLAIM_DELEG_CUR_FH:
      return NFS4ERR_BAD_STATEID;  // no delegation was granted
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
  // §18.51.3: before RECLAIM_COMPLETE a non-reclaim OPEN gets NFS4ERR_GRACE, and it must be
  // refused before it creates or truncates anything.
  if (!client.reclaim_complete) return NFS4ERR_GRACE;

  // The file is found or created without the state lock (other clients' SEQUENCEs, READs and
  // OPENs of other files go on meanwhile). What must be atomic with other OPENs, the share
  // check, a truncation and recording the open, happens under it below; a truncating create
  // therefore creates without the size and truncates only once the share check passed.
  std::optional<uint64_t> truncate_to = set.size;
  set.size.reset();

  vfs::Node target;
  bool created = false;
  if (a.claim.type == CLAIM_FH) {
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
  auto guard = c.svc.state.lock_file(key);
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
  if (auto st = c.svc.state.open_locked(client, owner, key, access, a.share_deny, sid);
      st != NFS4_OK) {
    return st;
  }
  r.ok.stateid = sid;
  r.ok.rflags = OPEN4_RESULT_LOCKTYPE_POSIX;
  r.ok.delegation = no_delegation(a.share_access);
  if (auto st = c.set_current(target); st != NFS4_OK) return st;
  c.current_stateid = sid;
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
