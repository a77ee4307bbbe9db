// Stateids (§8.2) and share reservations: OPEN, CLOSE, OPEN_DOWNGRADE state changes, the
// stateid checks of READ/WRITE/SETATTR, TEST_STATEID, FREE_STATEID and DELEGRETURN.

#include <algorithm>

#include "nfs4/state/state_manager.h"

namespace dfs::nfs4::state {
namespace {

bool all_bytes(const Other& o, uint8_t v) {
  return std::all_of(o.begin(), o.end(), [v](uint8_t b) { return b == v; });
}

}  // namespace

bool StateManager::is_anonymous(const Stateid& s) {
  return s.seqid == 0 && all_bytes(s.other, 0);
}
bool StateManager::is_bypass(const Stateid& s) {
  return s.seqid == UINT32_MAX && all_bytes(s.other, 0xff);
}
bool StateManager::is_special(const Stateid& s) {
  return all_bytes(s.other, 0) || all_bytes(s.other, 0xff);
}

Other StateManager::new_other() {
  Other o{};
  uint64_t n = next_state_++;
  for (int i = 0; i < 4; ++i)
    o[i] = static_cast<uint8_t>(boot_epoch_ >> (24 - 8 * i));
  for (int i = 0; i < 8; ++i)
    o[4 + i] = static_cast<uint8_t>(n >> (56 - 8 * i));
  return o;
}

StateEntry* StateManager::find_state_locked(const Stateid& s) const {
  auto it = states_.find(s.other);
  return it == states_.end() ? nullptr : it->second.get();
}

nfsstat4 StateManager::validate_locked(const ClientRecord* client, const Stateid& s,
                                       StateEntry*& out) const {
  if (is_special(s)) return NFS4ERR_BAD_STATEID;
  StateEntry* e = find_state_locked(s);
  if (!e) {
    // A stateid from an earlier instance of the server is stale rather than bad.
    uint32_t epoch = (uint32_t{s.other[0]} << 24) | (uint32_t{s.other[1]} << 16) |
                     (uint32_t{s.other[2]} << 8) | s.other[3];
    return epoch != boot_epoch_ ? NFS4ERR_STALE_STATEID : NFS4ERR_BAD_STATEID;
  }
  if (client && e->client != client) return NFS4ERR_BAD_STATEID;
  // §8.2.2: seqid 0 means "the current one"; a lower one is old, a higher one never existed.
  if (s.seqid != 0 && s.seqid != e->seqid) {
    return static_cast<int32_t>(s.seqid - e->seqid) < 0 ? NFS4ERR_OLD_STATEID : NFS4ERR_BAD_STATEID;
  }
  out = e;
  return NFS4_OK;
}

nfsstat4 StateManager::check_share_locked(const FileKey& file, const OwnerKey& owner,
                                          uint32_t access, uint32_t deny) const {
  auto it = files_.find(file);
  if (it == files_.end()) return NFS4_OK;
  for (const OpenState* os : it->second.opens) {
    if (os->owner->key == owner) continue;  // an owner's own opens never conflict
    if ((os->deny & access) || (os->access & deny)) return NFS4ERR_SHARE_DENIED;
  }
  return NFS4_OK;
}

nfsstat4 StateManager::open_locked(ClientRecord& client, const OwnerKey& owner, const FileKey& file,
                                   uint32_t access, uint32_t deny, Stateid& out) {
  // §18.51.3: no new (non-reclaim) locking state before the client's RECLAIM_COMPLETE.
  if (!client.reclaim_complete) return NFS4ERR_GRACE;
  if (auto st = check_share_locked(file, owner, access, deny); st != NFS4_OK) return st;
  auto& slot = open_owners_[owner];
  if (!slot) {
    slot = std::make_unique<OpenOwner>();
    slot->key = owner;
    slot->client = &client;
    client.open_owners.insert(slot.get());
  }
  OpenOwner* oo = slot.get();
  for (OpenState* os : oo->opens) {
    if (os->file == file) {
      // A second OPEN by the same owner upgrades the existing state (§9.11).
      os->access |= access;
      os->deny |= deny;
      os->access_modes |= static_cast<uint8_t>(1u << access);
      os->deny_modes |= static_cast<uint8_t>(1u << deny);
      os->seqid++;
      out = os->stateid();
      return NFS4_OK;
    }
  }
  auto os = std::make_unique<OpenState>();
  os->other = new_other();
  os->kind = StateKind::kOpen;
  os->client = &client;
  os->file = file;
  os->owner = oo;
  os->access = access;
  os->deny = deny;
  os->access_modes = static_cast<uint8_t>(1u << access);
  os->deny_modes = static_cast<uint8_t>(1u << deny);
  oo->opens.push_back(os.get());
  auto& fstate = files_[file];
  fstate.opens.push_back(os.get());
  if (fstate.opens.size() == 1 && file_open_hook_) file_open_hook_(file, true);
  out = os->stateid();
  states_.emplace(os->other, std::move(os));
  return NFS4_OK;
}

void StateManager::remove_open_locked(OpenState* os) {
  for (LockState* ls : std::vector<LockState*>(os->locks))
    remove_lock_state_locked(ls);
  auto fit = files_.find(os->file);
  if (fit != files_.end()) {
    std::erase(fit->second.opens, os);
    if (fit->second.opens.empty() && file_open_hook_) file_open_hook_(os->file, false);
    if (fit->second.empty()) files_.erase(fit);
  }
  OpenOwner* oo = os->owner;
  std::erase(oo->opens, os);
  if (oo->opens.empty()) {
    oo->client->open_owners.erase(oo);
    OwnerKey key = oo->key;
    open_owners_.erase(key);  // destroys oo
  }
  Other other = os->other;
  states_.erase(other);  // destroys os
}

nfsstat4 StateManager::close(ClientRecord& client, const Stateid& stateid, const FileKey& file,
                             Stateid& out) {
  std::unique_lock lock(mu_);
  StateEntry* e = nullptr;
  if (auto st = validate_locked(&client, stateid, e); st != NFS4_OK) return st;
  if (e->kind != StateKind::kOpen || !(e->file == file)) return NFS4ERR_BAD_STATEID;
  auto* os = static_cast<OpenState*>(e);
  // §18.2.3: locks still held under this open make CLOSE fail.
  auto fit = files_.find(file);
  if (fit != files_.end()) {
    for (const LockState* ls : os->locks) {
      for (const auto& r : fit->second.locks) {
        if (r.owner == ls->owner) return NFS4ERR_LOCKS_HELD;
      }
    }
  }
  // §18.2.4: the stateid CLOSE returns is of no use; return the invalid special stateid
  // (other all zero, seqid NFS4_UINT32_MAX) so that any later use of it is caught.
  out = Stateid{UINT32_MAX, {}};
  remove_open_locked(os);
  return NFS4_OK;
}

nfsstat4 StateManager::open_downgrade(ClientRecord& client, const OpenDowngradeArgs& args,
                                      const FileKey& file, Stateid& out) {
  std::unique_lock lock(mu_);
  StateEntry* e = nullptr;
  if (auto st = validate_locked(&client, args.stateid, e); st != NFS4_OK) return st;
  if (e->kind != StateKind::kOpen || !(e->file == file)) return NFS4ERR_BAD_STATEID;
  auto* os = static_cast<OpenState*>(e);
  // §18.18.3: the valid values are those of share_access & ~OPEN4_SHARE_ACCESS_WANT_DELEG_MASK;
  // delegation "want" bits are ignored.
  uint32_t access = args.share_access & OPEN4_SHARE_ACCESS_BOTH;
  uint32_t deny = args.share_deny;
  if (access == 0 ||
      (args.share_access & ~(OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_DELEG_MASK)) ||
      deny > 3) {
    return NFS4ERR_INVAL;
  }
  // §18.18.3: the new modes must be ones this open was granted before.
  if ((access & ~os->access) || (deny & ~os->deny) || !(os->access_modes & (1u << access)) ||
      !(os->deny_modes & (1u << deny))) {
    return NFS4ERR_INVAL;
  }
  os->access = access;
  os->deny = deny;
  // Forget modes that are no longer covered, so a later downgrade cannot "restore" them.
  for (uint32_t m = 1; m <= 3; ++m) {
    if (m & ~access) os->access_modes &= static_cast<uint8_t>(~(1u << m));
  }
  for (uint32_t m = 1; m <= 3; ++m) {
    if (m & ~deny) os->deny_modes &= static_cast<uint8_t>(~(1u << m));
  }
  os->seqid++;
  out = os->stateid();
  return NFS4_OK;
}

nfsstat4 StateManager::check_io(const ClientRecord* client, const Stateid& stateid,
                                const FileKey& file, bool write) const {
  std::shared_lock lock(mu_);
  if (is_anonymous(stateid) || is_bypass(stateid)) {
    // §8.2.3: in WRITE and SETATTR the READ bypass stateid is treated like the anonymous one.
    // I/O without an open still honours other clients' deny reservations (§9.1.4).
    auto it = files_.find(file);
    if (it != files_.end()) {
      uint32_t need = write ? OPEN4_SHARE_DENY_WRITE : OPEN4_SHARE_DENY_READ;
      if (is_bypass(stateid) && !write) return NFS4_OK;
      for (const OpenState* os : it->second.opens) {
        if (os->deny & need) return NFS4ERR_LOCKED;
      }
    }
    return NFS4_OK;
  }
  StateEntry* e = nullptr;
  if (auto st = validate_locked(client, stateid, e); st != NFS4_OK) return st;
  if (!(e->file == file)) return NFS4ERR_BAD_STATEID;
  const OpenState* os = nullptr;
  if (e->kind == StateKind::kOpen) {
    os = static_cast<const OpenState*>(e);
  } else if (e->kind == StateKind::kLock) {
    os = static_cast<const LockState*>(e)->open;
  }
  if (!os) return NFS4ERR_BAD_STATEID;
  // Writing needs write access. Reading is allowed under any open: a client writing part
  // of a page must read the rest (as other servers allow).
  if (write && !(os->access & OPEN4_SHARE_ACCESS_WRITE)) return NFS4ERR_OPENMODE;
  return NFS4_OK;
}

nfsstat4 StateManager::test_stateid(const ClientRecord& client, const Stateid& stateid) const {
  std::shared_lock lock(mu_);
  StateEntry* e = nullptr;
  return validate_locked(&client, stateid, e);
}

nfsstat4 StateManager::free_stateid(ClientRecord& client, const Stateid& stateid) {
  std::unique_lock lock(mu_);
  StateEntry* e = nullptr;
  if (auto st = validate_locked(&client, stateid, e); st != NFS4_OK) return st;
  if (e->kind == StateKind::kOpen) return NFS4ERR_LOCKS_HELD;  // §18.38.3: CLOSE it instead
  if (e->kind == StateKind::kLock) {
    auto* ls = static_cast<LockState*>(e);
    auto fit = files_.find(ls->file);
    if (fit != files_.end()) {
      for (const auto& r : fit->second.locks) {
        if (r.owner == ls->owner) return NFS4ERR_LOCKS_HELD;
      }
    }
    remove_lock_state_locked(ls);
    return NFS4_OK;
  }
  return NFS4ERR_BAD_STATEID;
}

nfsstat4 StateManager::delegreturn(ClientRecord& client, const Stateid& stateid) {
  std::shared_lock lock(mu_);
  StateEntry* e = nullptr;
  if (auto st = validate_locked(&client, stateid, e); st != NFS4_OK) return st;
  // No delegations are granted yet, so no stateid can name one.
  return NFS4ERR_BAD_STATEID;
}

size_t StateManager::open_count() const {
  std::shared_lock lock(mu_);
  size_t n = 0;
  for (const auto& [k, f] : files_)
    n += f.opens.size();
  return n;
}

}  // namespace dfs::nfs4::state
