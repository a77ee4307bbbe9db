// Byte-range locks (§9.1, §18.10-§18.12): conflicts between lock owners, POSIX-style
// replacement within one owner (upgrade, downgrade, split), and lock stateids.

#include <algorithm>

#include "nfs4/state/state_manager.h"

namespace dfs::nfs4::state {
namespace {

bool is_write(nfs_lock_type4 t) {
  return t == WRITE_LT || t == WRITEW_LT;
}
bool valid_type(nfs_lock_type4 t) {
  return t >= READ_LT && t <= WRITEW_LT;
}

// [offset, offset+length) with NFS4_UINT64_MAX meaning "to the end"; §18.10.3 makes a zero
// length and a range that wraps past 2^64 invalid.
bool to_range(uint64_t offset, uint64_t length, uint64_t& start, uint64_t& end) {
  if (length == 0) return false;
  if (length == kUint64Max) {
    start = offset;
    end = kUint64Max;
    return true;
  }
  if (length > kUint64Max - offset) return false;
  start = offset;
  end = offset + length;
  return true;
}

bool overlaps(const LockRange& r, uint64_t start, uint64_t end) {
  return r.start < end && start < r.end;
}

LockDenied describe(const LockRange& r) {
  LockDenied d;
  d.offset = r.start;
  d.length = r.end == kUint64Max ? kUint64Max : r.end - r.start;
  d.locktype = r.write ? WRITE_LT : READ_LT;
  d.owner.clientid = r.owner->key.clientid;
  d.owner.owner.assign(r.owner->key.owner.begin(), r.owner->key.owner.end());
  return d;
}

const LockRange* find_conflict(const FileState& fs, const LockOwner* owner, bool write,
                               uint64_t start, uint64_t end) {
  for (const auto& r : fs.locks) {
    if (r.owner != owner && (r.write || write) && overlaps(r, start, end)) return &r;
  }
  return nullptr;
}

// Removes `owner`'s locks from [start, end), keeping the parts outside it.
void carve(std::vector<LockRange>& locks, const LockOwner* owner, uint64_t start, uint64_t end) {
  std::vector<LockRange> out;
  out.reserve(locks.size() + 1);
  for (const auto& r : locks) {
    if (r.owner != owner || !overlaps(r, start, end)) {
      out.push_back(r);
      continue;
    }
    if (r.start < start) out.push_back({r.owner, r.write, r.start, start});
    if (r.end > end) out.push_back({r.owner, r.write, end, r.end});
  }
  locks.swap(out);
}

}  // namespace

nfsstat4 StateManager::lock(ClientRecord& client, const LockArgs& args, const FileKey& file,
                            LockResult& out) {
  if (!valid_type(args.locktype)) return NFS4ERR_INVAL;
  uint64_t start = 0, end = 0;
  if (!to_range(args.offset, args.length, start, end)) return NFS4ERR_INVAL;
  if (args.reclaim) return NFS4ERR_NO_GRACE;  // nothing survives a restart yet: no grace

  FileShard& sh = shard(file);
  std::unique_lock lock(sh.mu);
  if (!client.reclaim_complete) return NFS4ERR_GRACE;  // §18.51.3
  LockState* ls = nullptr;
  OpenState* os = nullptr;
  LockOwner* owner = nullptr;
  // §18.10.4: the lock type must fit the open's access.
  bool write = is_write(args.locktype);
  auto fits_open = [write](const OpenState* o) {
    return (o->access & (write ? OPEN4_SHARE_ACCESS_WRITE : OPEN4_SHARE_ACCESS_READ)) != 0;
  };
  if (args.locker.new_lock_owner) {
    StateEntry* e = nullptr;
    if (auto st = validate_locked(sh, &client, args.locker.open_stateid, e); st != NFS4_OK) {
      return st;
    }
    if (e->kind != StateKind::kOpen || !(e->file == file)) return NFS4ERR_BAD_STATEID;
    os = static_cast<OpenState*>(e);
    // Checked before a lock owner is made: a refused LOCK must not leave an empty owner
    // behind, which would count as state held by the client (§18.35.5 case 3).
    if (!fits_open(os)) return NFS4ERR_OPENMODE;
    OwnerKey key{client.id, std::string(args.locker.lock_owner.owner.begin(),
                                        args.locker.lock_owner.owner.end())};
    owner = lock_owner_locked(sh, client, key);
    for (LockState* existing : owner->states) {
      if (existing->file == file) ls = existing;
    }
  } else {
    StateEntry* e = nullptr;
    if (auto st = validate_locked(sh, &client, args.locker.lock_stateid, e); st != NFS4_OK) {
      return st;
    }
    if (e->kind != StateKind::kLock || !(e->file == file)) return NFS4ERR_BAD_STATEID;
    ls = static_cast<LockState*>(e);
    os = ls->open;
    owner = ls->owner;
    if (!fits_open(os)) return NFS4ERR_OPENMODE;
  }

  FileState& fs = sh.files[file];
  if (const LockRange* c = find_conflict(fs, owner, write, start, end)) {
    out.denied = describe(*c);
    // A lock owner created for this request holds nothing.
    if (owner->states.empty()) drop_lock_owner_locked(sh, owner);
    return NFS4ERR_DENIED;
  }
  carve(fs.locks, owner, start, end);
  fs.locks.push_back({owner, write, start, end});

  if (!ls) {
    auto fresh = std::make_unique<LockState>();
    fresh->other = new_other(sh);
    fresh->kind = StateKind::kLock;
    fresh->client = &client;
    fresh->file = file;
    fresh->owner = owner;
    fresh->open = os;
    ls = fresh.get();
    owner->states.push_back(ls);
    os->locks.push_back(ls);
    sh.states.emplace(ls->other, std::move(fresh));
  } else {
    ls->seqid++;
  }
  out.stateid = ls->stateid();
  return NFS4_OK;
}

nfsstat4 StateManager::lockt(ClientRecord& client, const LocktArgs& args, const FileKey& file,
                             LocktResult& out) const {
  if (!valid_type(args.locktype)) return NFS4ERR_INVAL;
  uint64_t start = 0, end = 0;
  if (!to_range(args.offset, args.length, start, end)) return NFS4ERR_INVAL;
  const FileShard& sh = shard(file);
  std::shared_lock lock(sh.mu);
  auto fit = sh.files.find(file);
  if (fit == sh.files.end()) return NFS4_OK;
  OwnerKey key{client.id, std::string(args.owner.owner.begin(), args.owner.owner.end())};
  auto oit = sh.lock_owners.find(key);
  const LockOwner* owner = oit == sh.lock_owners.end() ? nullptr : oit->second.get();
  if (const LockRange* c = find_conflict(fit->second, owner, is_write(args.locktype), start, end)) {
    out.denied = describe(*c);
    return NFS4ERR_DENIED;
  }
  return NFS4_OK;
}

nfsstat4 StateManager::locku(ClientRecord& client, const LockuArgs& args, const FileKey& file,
                             Stateid& out) {
  if (!valid_type(args.locktype)) return NFS4ERR_INVAL;
  uint64_t start = 0, end = 0;
  if (!to_range(args.offset, args.length, start, end)) return NFS4ERR_INVAL;
  FileShard& sh = shard(file);
  std::unique_lock lock(sh.mu);
  StateEntry* e = nullptr;
  if (auto st = validate_locked(sh, &client, args.stateid, e); st != NFS4_OK) return st;
  if (e->kind != StateKind::kLock || !(e->file == file)) return NFS4ERR_BAD_STATEID;
  auto* ls = static_cast<LockState*>(e);
  auto fit = sh.files.find(file);
  if (fit != sh.files.end()) carve(fit->second.locks, ls->owner, start, end);
  ls->seqid++;
  out = ls->stateid();
  return NFS4_OK;
}

LockOwner* StateManager::lock_owner_locked(FileShard& sh, ClientRecord& client,
                                           const OwnerKey& key) {
  auto& slot = sh.lock_owners[key];
  if (!slot) {
    slot = std::make_unique<LockOwner>();
    slot->key = key;
    slot->client = &client;
    sh.by_client[client.id].lock_owners.insert(slot.get());
    const uint64_t bit = uint64_t{1} << (&sh - shards_.data());
    if (!(client.file_shards.load(std::memory_order_relaxed) & bit)) {
      client.file_shards.fetch_or(bit, std::memory_order_release);
    }
  }
  return slot.get();
}

void StateManager::drop_lock_owner_locked(FileShard& sh, LockOwner* lo) {
  auto hit = sh.by_client.find(lo->client->id);
  if (hit != sh.by_client.end()) {
    hit->second.lock_owners.erase(lo);
    if (hit->second.empty()) sh.by_client.erase(hit);
  }
  OwnerKey key = lo->key;
  sh.lock_owners.erase(key);  // destroys lo
}

void StateManager::remove_lock_state_locked(FileShard& sh, LockState* ls) {
  auto fit = sh.files.find(ls->file);
  if (fit != sh.files.end()) {
    std::erase_if(fit->second.locks, [&](const LockRange& r) { return r.owner == ls->owner; });
    if (fit->second.empty()) sh.files.erase(fit);
  }
  if (ls->open) std::erase(ls->open->locks, ls);
  LockOwner* owner = ls->owner;
  std::erase(owner->states, ls);
  if (owner->states.empty()) drop_lock_owner_locked(sh, owner);
  Other other = ls->other;
  sh.states.erase(other);
}

size_t StateManager::lock_count() const {
  size_t n = 0;
  for (const auto& sh : shards_) {
    std::shared_lock lock(sh.mu);
    for (const auto& [k, f] : sh.files)
      n += f.locks.size();
  }
  return n;
}

}  // namespace dfs::nfs4::state
