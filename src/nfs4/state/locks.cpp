// Byte-range locks (§9.1, §18.10-§18.12): conflicts between lock owners, POSIX-style
// replacement within one owner (upgrade, downgrade, split), and lock stateids.

#include <algorithm>
#include <optional>

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

// Keeps the client's count of ranges held (its max_locks_per_client budget) in step with a
// change of one owner's ranges from `before` to `after`.
void adjust_ranges(ClientRecord& client, size_t before, size_t after) {
  if (after >= before) {
    client.lock_ranges.fetch_add(static_cast<uint32_t>(after - before), std::memory_order_relaxed);
  } else {
    client.lock_ranges.fetch_sub(static_cast<uint32_t>(before - after), std::memory_order_relaxed);
  }
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

// An owner's first range overlapping [start, end) that conflicts with a lock of kind
// `write` (any range conflicts with a write lock, a write range with any lock). Ranges of one
// owner do not overlap, so only the last one starting before `start` and those starting in
// [start, end) can overlap: O(log n + overlaps).
std::optional<LockRange> conflict_in(LockOwner* owner, const OwnerRanges& ranges, bool write,
                                     uint64_t start, uint64_t end) {
  auto it = ranges.by_start.lower_bound(start);
  if (it != ranges.by_start.begin()) {
    auto prev = std::prev(it);
    if (prev->second.end > start && (write || prev->second.write)) {
      return LockRange{owner, prev->second.write, prev->first, prev->second.end};
    }
  }
  for (; it != ranges.by_start.end() && it->first < end; ++it) {
    if (write || it->second.write)
      return LockRange{owner, it->second.write, it->first, it->second.end};
  }
  return std::nullopt;
}

// The first conflicting lock of another owner whose client is not past its lease; the
// clients past their lease that hold conflicting locks go into `courtesy` (§8.4.3: their
// locks must not stand in the way, the caller has them expired).
template <class LeaseExpired>
std::optional<LockRange> find_conflict(const FileState& fs, const LockOwner* owner, bool write,
                                       uint64_t start, uint64_t end, LeaseExpired&& lease_expired,
                                       std::vector<uint64_t>& courtesy) {
  for (const auto& [other, ranges] : fs.locks) {
    if (other == owner) continue;
    if (auto c = conflict_in(other, ranges, write, start, end)) {
      if (!lease_expired(*other->client)) return c;
      courtesy.push_back(other->client->id);
    }
  }
  return std::nullopt;
}

// Removes `owner`'s locks from [start, end), keeping the parts outside it.
void carve(OwnerRanges& ranges, uint64_t start, uint64_t end) {
  auto& m = ranges.by_start;
  auto it = m.lower_bound(start);
  if (it != m.begin()) {
    auto prev = std::prev(it);
    if (prev->second.end > start) {
      const auto tail = prev->second;
      prev->second.end = start;  // the part before `start` stays
      if (tail.end > end) m.emplace(end, OwnerRanges::Range{tail.end, tail.write});
    }
  }
  while (it != m.end() && it->first < end) {
    if (it->second.end > end) {
      const auto tail = it->second;
      it = m.erase(it);
      m.emplace(end, tail);
      break;
    }
    it = m.erase(it);
  }
}

}  // namespace

nfsstat4 StateManager::lock(ClientRecord& client, const LockArgs& args, const FileKey& file,
                            LockResult& out) {
  if (!valid_type(args.locktype)) return NFS4ERR_INVAL;
  uint64_t start = 0, end = 0;
  if (!to_range(args.offset, args.length, start, end)) return NFS4ERR_INVAL;
  // §8.4.2.1: a reclaim only in grace and only from a client that held state before the
  // restart; anything else waits for the grace period to end.
  if (args.reclaim) {
    if (client.reclaim_complete || !grace.may_reclaim(client.owner)) return NFS4ERR_NO_GRACE;
  } else if (grace.active()) {
    return NFS4ERR_GRACE;
  }

  FileShard& sh = shard(file);
  std::unique_lock lock(sh.mu);
  if (!client.reclaim_complete && !args.reclaim) return NFS4ERR_GRACE;  // §18.51.3
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
    // A new lock owner counts against the client's budget (a hostile client could otherwise
    // make the server hold any number of them): the client may retry once it freed some.
    if (!sh.lock_owners.count(key) && client.lock_owners.load(std::memory_order_relaxed) >=
                                          settings_.get()->max_lock_owners_per_client) {
      if (observer_) observer_->budget_refused(Budget::kLockOwners);
      return NFS4ERR_DELAY;
    }
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
  std::vector<uint64_t> courtesy;
  auto expired = [this](const ClientRecord& c) { return lease_expired(c); };
  if (auto c = find_conflict(fs, owner, write, start, end, expired, courtesy)) {
    out.denied = describe(*c);
    // A lock owner created for this request holds nothing.
    if (owner->states.empty()) drop_lock_owner_locked(sh, owner);
    return NFS4ERR_DENIED;
  }
  if (!courtesy.empty()) {
    if (owner->states.empty()) drop_lock_owner_locked(sh, owner);
    expire_courtesy(std::move(courtesy));
    return NFS4ERR_DELAY;  // retried once the courtesy clients are gone
  }
  if (client.lock_ranges.load(std::memory_order_relaxed) >= settings_.get()->max_locks_per_client) {
    if (owner->states.empty()) drop_lock_owner_locked(sh, owner);
    if (observer_) observer_->budget_refused(Budget::kLocks);
    return NFS4ERR_DELAY;
  }
  auto& mine = fs.locks[owner];
  const size_t before = mine.by_start.size();
  carve(mine, start, end);
  mine.by_start[start] = OwnerRanges::Range{end, write};
  adjust_ranges(client, before, mine.by_start.size());

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
  std::vector<uint64_t> courtesy;
  auto expired = [this](const ClientRecord& c) { return lease_expired(c); };
  if (auto c = find_conflict(fit->second, owner, is_write(args.locktype), start, end, expired,
                             courtesy)) {
    out.denied = describe(*c);
    return NFS4ERR_DENIED;
  }
  if (!courtesy.empty()) {
    expire_courtesy(std::move(courtesy));
    return NFS4ERR_DELAY;
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
  if (fit != sh.files.end()) {
    auto oit = fit->second.locks.find(ls->owner);
    if (oit != fit->second.locks.end()) {
      const size_t before = oit->second.by_start.size();
      carve(oit->second, start, end);
      adjust_ranges(client, before, oit->second.by_start.size());
      if (oit->second.by_start.empty()) fit->second.locks.erase(oit);
    }
  }
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
    client.lock_owners.fetch_add(1, std::memory_order_relaxed);
    const uint64_t bit = uint64_t{1} << (&sh - shards_.data());
    if (!(client.file_shards.load(std::memory_order_relaxed) & bit)) {
      client.file_shards.fetch_or(bit, std::memory_order_release);
    }
  }
  return slot.get();
}

void StateManager::drop_lock_owner_locked(FileShard& sh, LockOwner* lo) {
  lo->client->lock_owners.fetch_sub(1, std::memory_order_relaxed);
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
    if (auto oit = fit->second.locks.find(ls->owner); oit != fit->second.locks.end()) {
      ls->client->lock_ranges.fetch_sub(static_cast<uint32_t>(oit->second.by_start.size()),
                                        std::memory_order_relaxed);
      fit->second.locks.erase(oit);
    }
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
    for (const auto& [k, f] : sh.files) {
      for (const auto& [owner, ranges] : f.locks)
        n += ranges.by_start.size();
    }
  }
  return n;
}

}  // namespace dfs::nfs4::state
