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

FileShard* StateManager::shard_of(const Other& other) {
  size_t i = other[kOtherShardByte];
  return i < kFileShards ? &shards_[i] : nullptr;
}

const FileShard* StateManager::shard_of(const Other& other) const {
  size_t i = other[kOtherShardByte];
  return i < kFileShards ? &shards_[i] : nullptr;
}

// A stateid's other: the boot epoch (a stateid of an earlier instance is stale, §8.2.3
// lets the server tell), the shard that holds it, and that shard's counter.
Other StateManager::new_other(FileShard& sh) {
  Other o{};
  uint64_t n = sh.next_state++;
  for (int i = 0; i < 4; ++i)
    o[i] = static_cast<uint8_t>(boot_epoch_ >> (24 - 8 * i));
  o[kOtherShardByte] = static_cast<uint8_t>(&sh - shards_.data());
  for (int i = 0; i < 7; ++i)
    o[5 + i] = static_cast<uint8_t>(n >> (48 - 8 * i));
  return o;
}

StateEntry* StateManager::find_state_locked(const FileShard& sh, const Stateid& s) const {
  auto it = sh.states.find(s.other);
  return it == sh.states.end() ? nullptr : it->second.get();
}

nfsstat4 StateManager::validate_locked(const FileShard& sh, const ClientRecord* client,
                                       const Stateid& s, StateEntry*& out) const {
  if (is_special(s)) return NFS4ERR_BAD_STATEID;
  StateEntry* e = find_state_locked(sh, s);
  if (!e) {
    // A stateid from an earlier instance of the server is stale rather than bad.
    uint32_t epoch = (uint32_t{s.other[0]} << 24) | (uint32_t{s.other[1]} << 16) |
                     (uint32_t{s.other[2]} << 8) | s.other[3];
    return epoch != boot_epoch_ ? NFS4ERR_STALE_STATEID : NFS4ERR_BAD_STATEID;
  }
  if (client && e->client != client) return NFS4ERR_BAD_STATEID;
  if (e->kind == StateKind::kDelegation && static_cast<const DelegState*>(e)->revoked) {
    return NFS4ERR_DELEG_REVOKED;  // §10.2.1: until the client frees it
  }
  // §8.2.2: seqid 0 means "the current one"; a lower one is old, a higher one never existed.
  if (s.seqid != 0 && s.seqid != e->seqid) {
    return static_cast<int32_t>(s.seqid - e->seqid) < 0 ? NFS4ERR_OLD_STATEID : NFS4ERR_BAD_STATEID;
  }
  out = e;
  return NFS4_OK;
}

nfsstat4 StateManager::check_share_locked(const FileKey& file, const OwnerKey& owner,
                                          uint32_t access, uint32_t deny) const {
  const FileShard& sh = shard(file);
  auto it = sh.files.find(file);
  if (it == sh.files.end()) return NFS4_OK;
  std::vector<uint64_t> courtesy;
  for (const OpenState* os : it->second.opens) {
    if (os->owner->key == owner) continue;  // an owner's own opens never conflict
    if (!(os->deny & access) && !(os->access & deny)) continue;
    // A client whose lease ran out does not keep others from the file (§8.4.3): it is
    // expired, and this client retries (DELAY) once it is gone. Every such client in the
    // way goes at once, so one retry is enough.
    if (!lease_expired(*os->client)) return NFS4ERR_SHARE_DENIED;
    courtesy.push_back(os->client->id);
  }
  if (courtesy.empty()) return NFS4_OK;
  expire_courtesy(std::move(courtesy));
  return NFS4ERR_DELAY;
}

OpenOwner* StateManager::open_owner_locked(FileShard& sh, ClientRecord& client,
                                           const OwnerKey& key) {
  auto& slot = sh.open_owners[key];
  if (!slot) {
    slot = std::make_unique<OpenOwner>();
    slot->key = key;
    slot->client = &client;
    sh.by_client[client.id].open_owners.insert(slot.get());
    const uint64_t bit = uint64_t{1} << (&sh - shards_.data());
    if (!(client.file_shards.load(std::memory_order_relaxed) & bit)) {
      client.file_shards.fetch_or(bit, std::memory_order_release);
    }
  }
  return slot.get();
}

void StateManager::drop_open_owner_locked(FileShard& sh, OpenOwner* oo) {
  auto hit = sh.by_client.find(oo->client->id);
  if (hit != sh.by_client.end()) {
    hit->second.open_owners.erase(oo);
    if (hit->second.empty()) sh.by_client.erase(hit);
  }
  OwnerKey key = oo->key;
  sh.open_owners.erase(key);  // destroys oo
}

nfsstat4 StateManager::open_locked(ClientRecord& client, const OwnerKey& owner, const FileKey& file,
                                   uint32_t access, uint32_t deny, Stateid& out, bool reclaim) {
  // §18.51.3: no new (non-reclaim) locking state before the client's RECLAIM_COMPLETE.
  if (!client.reclaim_complete && !reclaim) return NFS4ERR_GRACE;
  if (auto st = check_share_locked(file, owner, access, deny); st != NFS4_OK) return st;
  FileShard& sh = shard(file);
  OpenOwner* oo = open_owner_locked(sh, client, owner);
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
  os->other = new_other(sh);
  os->kind = StateKind::kOpen;
  os->client = &client;
  os->file = file;
  os->owner = oo;
  os->access = access;
  os->deny = deny;
  os->access_modes = static_cast<uint8_t>(1u << access);
  os->deny_modes = static_cast<uint8_t>(1u << deny);
  oo->opens.push_back(os.get());
  auto& fstate = sh.files[file];
  fstate.opens.push_back(os.get());
  if (fstate.opens.size() == 1 && file_open_hook_) file_open_hook_(file, true);
  out = os->stateid();
  sh.states.emplace(os->other, std::move(os));
  return NFS4_OK;
}

void StateManager::remove_open_locked(FileShard& sh, OpenState* os) {
  for (LockState* ls : std::vector<LockState*>(os->locks))
    remove_lock_state_locked(sh, ls);
  auto fit = sh.files.find(os->file);
  if (fit != sh.files.end()) {
    std::erase(fit->second.opens, os);
    if (fit->second.opens.empty() && file_open_hook_) file_open_hook_(os->file, false);
    if (fit->second.empty()) sh.files.erase(fit);
  }
  OpenOwner* oo = os->owner;
  std::erase(oo->opens, os);
  if (oo->opens.empty()) drop_open_owner_locked(sh, oo);
  Other other = os->other;
  sh.states.erase(other);  // destroys os
}

void StateManager::purge_file_state(const ClientRecord& client) {
  const uint64_t mask = client.file_shards.load(std::memory_order_acquire);
  for (size_t i = 0; i < kFileShards; ++i) {
    if (!(mask & (uint64_t{1} << i))) continue;
    FileShard& sh = shards_[i];
    std::unique_lock lock(sh.mu);
    auto it = sh.by_client.find(client.id);
    if (it == sh.by_client.end()) continue;
    // Lock owners first: their states point at opens. Each removal may erase the client's
    // holdings, so take copies and look the entry up again.
    std::vector<LockOwner*> los(it->second.lock_owners.begin(), it->second.lock_owners.end());
    std::vector<OpenOwner*> oos(it->second.open_owners.begin(), it->second.open_owners.end());
    std::vector<DelegState*> ds(it->second.delegs.begin(), it->second.delegs.end());
    for (DelegState* d : ds)
      remove_delegation_locked(sh, d, false);
    for (LockOwner* lo : los) {
      for (LockState* ls : std::vector<LockState*>(lo->states))
        remove_lock_state_locked(sh, ls);
    }
    for (OpenOwner* oo : oos) {
      for (OpenState* os : std::vector<OpenState*>(oo->opens))
        remove_open_locked(sh, os);
    }
  }
}

nfsstat4 StateManager::close(ClientRecord& client, const Stateid& stateid, const FileKey& file,
                             Stateid& out) {
  FileShard& sh = shard(file);
  std::unique_lock lock(sh.mu);
  StateEntry* e = nullptr;
  if (auto st = validate_locked(sh, &client, stateid, e); st != NFS4_OK) return st;
  if (e->kind != StateKind::kOpen || !(e->file == file)) return NFS4ERR_BAD_STATEID;
  auto* os = static_cast<OpenState*>(e);
  // §18.2.3: locks still held under this open make CLOSE fail.
  auto fit = sh.files.find(file);
  if (fit != sh.files.end()) {
    for (const LockState* ls : os->locks) {
      if (fit->second.locks.count(ls->owner)) return NFS4ERR_LOCKS_HELD;
    }
  }
  // §18.2.4: the stateid CLOSE returns is of no use; return the invalid special stateid
  // (other all zero, seqid NFS4_UINT32_MAX) so that any later use of it is caught.
  out = Stateid{UINT32_MAX, {}};
  remove_open_locked(sh, os);
  return NFS4_OK;
}

nfsstat4 StateManager::open_downgrade(ClientRecord& client, const OpenDowngradeArgs& args,
                                      const FileKey& file, Stateid& out) {
  FileShard& sh = shard(file);
  std::unique_lock lock(sh.mu);
  StateEntry* e = nullptr;
  if (auto st = validate_locked(sh, &client, args.stateid, e); st != NFS4_OK) return st;
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
                                const FileKey& file, bool write, std::vector<Recall>* recalls) {
  FileShard& sh = shard(file);
  const bool any_delegs = sh.read_delegs.load(std::memory_order_relaxed) != 0 ||
                          sh.write_delegs.load(std::memory_order_relaxed) != 0;
  nfsstat4 status = NFS4_OK;
  bool conflict = false;
  {
    std::shared_lock lock(sh.mu);
    if (is_anonymous(stateid) || is_bypass(stateid)) {
      // §8.2.3: in WRITE and SETATTR the READ bypass stateid is treated like the anonymous
      // one. I/O without an open still honours other clients' deny reservations (§9.1.4).
      auto it = sh.files.find(file);
      if (it != sh.files.end()) {
        uint32_t need = write ? OPEN4_SHARE_DENY_WRITE : OPEN4_SHARE_DENY_READ;
        if (!(is_bypass(stateid) && !write)) {
          for (const OpenState* os : it->second.opens) {
            if (os->deny & need) return NFS4ERR_LOCKED;
          }
        }
      }
    } else {
      StateEntry* e = nullptr;
      if (auto st = validate_locked(sh, client, stateid, e); st != NFS4_OK) return st;
      if (!(e->file == file)) return NFS4ERR_BAD_STATEID;
      if (e->kind == StateKind::kDelegation) {
        // The holder's own I/O under its delegation (§10.2): a read delegation reads only.
        const auto* d = static_cast<const DelegState*>(e);
        return write && d->type != DelegType::kWrite ? NFS4ERR_OPENMODE : NFS4_OK;
      }
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
    }
    // Another client's delegation that this I/O conflicts with (§10.4.1)? Looked for only
    // where the shard holds delegations at all.
    if (any_delegs) {
      auto it = sh.files.find(file);
      if (it != sh.files.end()) {
        for (const DelegState* d : it->second.delegs) {
          if (d->client != client && (write || d->type == DelegType::kWrite)) conflict = true;
        }
      }
    }
  }
  if (!conflict) return status;
  std::vector<Recall> local;
  return delegation_conflict(client, file, write ? DelegAccess::kWrite : DelegAccess::kRead,
                             RecallReason::kIo, recalls ? *recalls : local);
}

// Stateids found by their other alone: the shard it names. An other that names no shard
// was never handed out by this instance (or is stale, which validate_locked tells apart).
nfsstat4 StateManager::test_stateid(const ClientRecord& client, const Stateid& stateid) const {
  static const FileShard kNone;
  const FileShard* sh = shard_of(stateid.other);
  if (!sh) sh = &kNone;
  std::shared_lock lock(sh->mu);
  StateEntry* e = nullptr;
  return validate_locked(*sh, &client, stateid, e);
}

nfsstat4 StateManager::free_stateid(ClientRecord& client, const Stateid& stateid) {
  FileShard* sh = shard_of(stateid.other);
  if (!sh) return test_stateid(client, stateid);
  std::unique_lock lock(sh->mu);
  // A revoked delegation is freed here, which ends what SEQUENCE reports about it (§8.2.4).
  if (auto it = sh->states.find(stateid.other);
      it != sh->states.end() && it->second->kind == StateKind::kDelegation &&
      it->second->client == &client && static_cast<DelegState*>(it->second.get())->revoked) {
    remove_delegation_locked(*sh, static_cast<DelegState*>(it->second.get()), false);
    return NFS4_OK;
  }
  StateEntry* e = nullptr;
  if (auto st = validate_locked(*sh, &client, stateid, e); st != NFS4_OK) return st;
  // §18.38.3: an open is CLOSEd and a delegation returned, not freed.
  if (e->kind == StateKind::kOpen || e->kind == StateKind::kDelegation) return NFS4ERR_LOCKS_HELD;
  if (e->kind == StateKind::kLock) {
    auto* ls = static_cast<LockState*>(e);
    auto fit = sh->files.find(ls->file);
    if (fit != sh->files.end() && fit->second.locks.count(ls->owner)) return NFS4ERR_LOCKS_HELD;
    remove_lock_state_locked(*sh, ls);
    return NFS4_OK;
  }
  return NFS4ERR_BAD_STATEID;
}

size_t StateManager::open_count() const {
  size_t n = 0;
  for (const auto& sh : shards_) {
    std::shared_lock lock(sh.mu);
    for (const auto& [k, f] : sh.files)
      n += f.opens.size();
  }
  return n;
}

}  // namespace dfs::nfs4::state
