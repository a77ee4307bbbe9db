// Delegations (RFC 8881 §10.2, §10.4): granting, conflicts that recall them, return,
// revocation of those not returned within a lease, and the waiters of blocked locks
// (§9.6, CB_NOTIFY_LOCK). Callbacks themselves are sent by the NFS layer (callback.cpp);
// this decides who is called and why.

#include <algorithm>

#include <spdlog/spdlog.h>

#include "nfs4/state/state_manager.h"

namespace dfs::nfs4::state {
namespace {

// A client that asked to wait for a lock is remembered for about this many other waiters
// per file at most: the list is a courtesy (the client also polls), so it stays bounded.
constexpr size_t kMaxLockWaitersPerFile = 64;

bool conflicts(const DelegState& d, DelegAccess what) {
  return what != DelegAccess::kRead || d.type == DelegType::kWrite;
}

}  // namespace

const char* recall_reason_name(RecallReason r) {
  switch (r) {
    case RecallReason::kOpen:
      return "open";
    case RecallReason::kIo:
      return "io";
    case RecallReason::kSetattr:
      return "setattr";
    case RecallReason::kNamespace:
      return "namespace";
    case RecallReason::kRecallAny:
      return "recall_any";
  }
  return "open";
}

void StateManager::remove_delegation_locked(FileShard& sh, DelegState* d, bool revoke) {
  if (!d->revoked) {
    auto fit = sh.files.find(d->file);
    if (fit != sh.files.end()) {
      std::erase(fit->second.delegs, d);
      if (fit->second.empty()) sh.files.erase(fit);
    }
    (d->type == DelegType::kWrite ? sh.write_delegs : sh.read_delegs)
        .fetch_sub(1, std::memory_order_relaxed);
  }
  if (revoke) {
    if (!d->revoked) {
      d->revoked = true;
      d->client->revoked_delegations.fetch_add(1, std::memory_order_relaxed);
      if (observer_) observer_->delegation_revoked();
      spdlog::info("client {:#x}: delegation on inode {} revoked ({})", d->client->id,
                   d->file.inode,
                   d->recalled ? "not returned within a lease" : "its lease ran out");
    }
    return;
  }
  if (d->revoked) d->client->revoked_delegations.fetch_sub(1, std::memory_order_relaxed);
  auto hit = sh.by_client.find(d->client->id);
  if (hit != sh.by_client.end()) {
    hit->second.delegs.erase(d);
    if (hit->second.empty()) sh.by_client.erase(hit);
  }
  Other other = d->other;
  sh.states.erase(other);  // destroys d
}

nfsstat4 StateManager::delegation_conflict_locked(const ClientRecord* client, const FileKey& file,
                                                  DelegAccess what, RecallReason why,
                                                  std::vector<Recall>& recalls) {
  FileShard& sh = shard(file);
  auto fit = sh.files.find(file);
  if (fit == sh.files.end() || fit->second.delegs.empty()) return NFS4_OK;
  const auto lease = std::chrono::seconds(settings_.get()->lease_time);
  const auto now = Clock::now();
  nfsstat4 status = NFS4_OK;
  for (DelegState* d : std::vector<DelegState*>(fit->second.delegs)) {
    if (d->client == client || !conflicts(*d, what)) continue;
    if (!d->revoked && now - d->client->last_renew() > lease) {
      // The holder's lease ran out (a courtesy client, §8.4.3): nobody would answer a
      // recall, so the delegation is revoked now and the access goes ahead.
      remove_delegation_locked(sh, d, true);
      continue;
    }
    if (!d->recalled) {
      d->recalled = true;
      d->recalled_at = now;
      d->recall_sent_at = now;
      recalls.push_back({d->client->id, d->session, d->stateid(), d->fh});
      if (observer_) observer_->delegation_recalled(why);
    } else if (now - d->recalled_at > lease) {
      // Not returned within a lease of the recall: revoked, and the access goes ahead.
      remove_delegation_locked(sh, d, true);
      continue;
    }
    status = NFS4ERR_DELAY;
  }
  return status;
}

nfsstat4 StateManager::delegation_conflict(const ClientRecord* client, const FileKey& file,
                                           DelegAccess what, RecallReason why,
                                           std::vector<Recall>& recalls) {
  FileShard& sh = shard(file);
  if (sh.read_delegs.load(std::memory_order_relaxed) == 0 &&
      sh.write_delegs.load(std::memory_order_relaxed) == 0) {
    return NFS4_OK;  // no delegation anywhere in the shard: no lock taken
  }
  std::unique_lock lock(sh.mu);
  return delegation_conflict_locked(client, file, what, why, recalls);
}

std::optional<Recall> StateManager::write_delegation_holder(const ClientRecord* asking,
                                                            const FileKey& file) {
  FileShard& sh = shard(file);
  if (sh.write_delegs.load(std::memory_order_relaxed) == 0) return std::nullopt;
  std::unique_lock lock(sh.mu);
  auto fit = sh.files.find(file);
  if (fit == sh.files.end()) return std::nullopt;
  for (const DelegState* d : fit->second.delegs) {
    // A holder past its lease would not answer CB_GETATTR; the recall path revokes its
    // delegation instead (delegation_conflict_locked).
    if (d->client != asking && d->type == DelegType::kWrite && !d->recalled && !d->revoked &&
        !lease_expired(*d->client)) {
      return Recall{d->client->id, d->session, d->stateid(), d->fh};
    }
  }
  return std::nullopt;
}

std::optional<why_no_delegation4> StateManager::delegation_refusal_locked(
    const ClientRecord& client, const FileKey& file, DelegType type) const {
  auto settings = settings_.get();
  if (!settings->delegations_enabled) return WND4_RESOURCE;
  if (delegation_count() >= settings->max_delegations) return WND4_RESOURCE;
  const FileShard& sh = shard(file);
  auto fit = sh.files.find(file);
  if (fit == sh.files.end()) return std::nullopt;
  const FileState& fs = fit->second;
  for (const DelegState* d : fs.delegs) {
    // One delegation per client and file; another client's always conflicts with a new one
    // (two read delegations could coexist, but a file shared that way gains little).
    if (d->client == &client || d->recalled) return WND4_CONTENTION;
    if (type == DelegType::kWrite || d->type == DelegType::kWrite) return WND4_CONTENTION;
  }
  for (const OpenState* os : fs.opens) {
    if (os->client == &client) continue;
    // Another client's open: a write delegation conflicts with any, a read delegation with
    // one that writes (§10.4.1).
    if (type == DelegType::kWrite || (os->access & OPEN4_SHARE_ACCESS_WRITE)) {
      return WND4_CONTENTION;
    }
  }
  for (const auto& [owner, ranges] : fs.locks) {
    if (owner->client != &client) return WND4_CONTENTION;
  }
  return std::nullopt;
}

Stateid StateManager::grant_delegation_locked(ClientRecord& client, const SessionId& session,
                                              const FileKey& file, DelegType type,
                                              std::vector<uint8_t> fh) {
  FileShard& sh = shard(file);
  auto d = std::make_unique<DelegState>();
  d->other = new_other(sh);
  d->kind = StateKind::kDelegation;
  d->client = &client;
  d->file = file;
  d->type = type;
  d->session = session;
  d->fh = std::move(fh);
  d->granted_at = std::chrono::system_clock::now();
  sh.files[file].delegs.push_back(d.get());
  sh.by_client[client.id].delegs.insert(d.get());
  const uint64_t bit = uint64_t{1} << (&sh - shards_.data());
  if (!(client.file_shards.load(std::memory_order_relaxed) & bit)) {
    client.file_shards.fetch_or(bit, std::memory_order_release);
  }
  (type == DelegType::kWrite ? sh.write_delegs : sh.read_delegs)
      .fetch_add(1, std::memory_order_relaxed);
  Stateid out = d->stateid();
  sh.states.emplace(d->other, std::move(d));
  if (observer_) observer_->delegation_granted(type);
  return out;
}

nfsstat4 StateManager::check_delegation_claim(const ClientRecord& client, const Stateid& stateid,
                                              const FileKey& file) const {
  const FileShard& sh = shard(file);
  std::shared_lock lock(sh.mu);
  StateEntry* e = nullptr;
  if (auto st = validate_locked(sh, &client, stateid, e); st != NFS4_OK) return st;
  if (e->kind != StateKind::kDelegation || !(e->file == file)) return NFS4ERR_BAD_STATEID;
  return NFS4_OK;
}

nfsstat4 StateManager::delegreturn(ClientRecord& client, const Stateid& stateid,
                                   const FileKey& file) {
  FileShard* sh = shard_of(stateid.other);
  if (!sh) return test_stateid(client, stateid);
  std::unique_lock lock(sh->mu);
  StateEntry* e = nullptr;
  if (auto st = validate_locked(*sh, &client, stateid, e); st != NFS4_OK) return st;
  if (e->kind != StateKind::kDelegation) return NFS4ERR_BAD_STATEID;
  if (!(e->file == file)) return NFS4ERR_BAD_STATEID;
  remove_delegation_locked(*sh, static_cast<DelegState*>(e), false);
  return NFS4_OK;
}

size_t StateManager::revoke_overdue_delegations() {
  const auto lease = std::chrono::seconds(settings_.get()->lease_time);
  const auto now = Clock::now();
  size_t n = 0;
  for (auto& sh : shards_) {
    if (sh.read_delegs.load(std::memory_order_relaxed) == 0 &&
        sh.write_delegs.load(std::memory_order_relaxed) == 0) {
      continue;
    }
    std::unique_lock lock(sh.mu);
    std::vector<DelegState*> overdue;
    for (const auto& [key, fs] : sh.files) {
      for (DelegState* d : fs.delegs) {
        if (d->recalled && now - d->recalled_at > lease) overdue.push_back(d);
      }
    }
    for (DelegState* d : overdue)
      remove_delegation_locked(sh, d, true);
    n += overdue.size();
  }
  return n;
}

void StateManager::recall_failed(const Stateid& stateid) {
  FileShard* sh = shard_of(stateid.other);
  if (!sh) return;
  std::unique_lock lock(sh->mu);
  auto it = sh->states.find(stateid.other);
  if (it == sh->states.end() || it->second->kind != StateKind::kDelegation) return;
  static_cast<DelegState*>(it->second.get())->recall_failed = true;
}

std::vector<Recall> StateManager::recalls_to_resend(std::chrono::steady_clock::duration interval) {
  const auto now = Clock::now();
  std::vector<Recall> out;
  for (auto& sh : shards_) {
    if (sh.read_delegs.load(std::memory_order_relaxed) == 0 &&
        sh.write_delegs.load(std::memory_order_relaxed) == 0) {
      continue;
    }
    std::unique_lock lock(sh.mu);
    for (auto& [key, fs] : sh.files) {
      for (DelegState* d : fs.delegs) {
        if (!d->recalled || !d->recall_failed || now - d->recall_sent_at < interval) continue;
        d->recall_failed = false;
        d->recall_sent_at = now;
        out.push_back({d->client->id, d->session, d->stateid(), d->fh});
      }
    }
  }
  return out;
}

size_t StateManager::delegation_count() const {
  size_t n = 0;
  for (const auto& sh : shards_) {
    n += sh.read_delegs.load(std::memory_order_relaxed) +
         sh.write_delegs.load(std::memory_order_relaxed);
  }
  return n;
}

size_t StateManager::delegation_count(DelegType type) const {
  size_t n = 0;
  for (const auto& sh : shards_) {
    n += (type == DelegType::kWrite ? sh.write_delegs : sh.read_delegs)
             .load(std::memory_order_relaxed);
  }
  return n;
}

std::vector<DelegationSummary> StateManager::delegations(uint64_t clientid) const {
  std::vector<DelegationSummary> out;
  for (const auto& sh : shards_) {
    std::shared_lock lock(sh.mu);
    auto it = sh.by_client.find(clientid);
    if (it == sh.by_client.end()) continue;
    for (const DelegState* d : it->second.delegs)
      out.push_back({d->stateid(), d->file, d->type, d->granted_at, d->recalled, d->revoked});
  }
  return out;
}

std::vector<std::pair<uint64_t, size_t>> StateManager::delegation_holders() const {
  std::unordered_map<uint64_t, size_t> counts;
  for (const auto& sh : shards_) {
    std::shared_lock lock(sh.mu);
    for (const auto& [id, h] : sh.by_client) {
      for (const DelegState* d : h.delegs)
        counts[id] += d->revoked ? 0 : 1;
    }
  }
  std::vector<std::pair<uint64_t, size_t>> out;
  for (const auto& [id, n] : counts) {
    if (n) out.emplace_back(id, n);
  }
  return out;
}

std::optional<SessionId> StateManager::callback_session(uint64_t clientid,
                                                        const SessionId& preferred) const {
  if (auto s = sessions_.find(preferred); s && s->client->id == clientid) {
    std::lock_guard slock(s->mu);
    if (!s->destroyed && s->has_back_channel_locked()) return preferred;
  }
  std::shared_lock lock(clients_mu_);
  auto c = find_client_locked(clientid);
  if (!c) return std::nullopt;
  for (const auto& [sid, s] : c->sessions) {
    std::lock_guard slock(s->mu);
    if (!s->destroyed && s->has_back_channel_locked()) return sid;
  }
  return std::nullopt;
}

void StateManager::add_lock_waiter(const ClientRecord& client, const std::string& owner,
                                   const FileKey& file, std::vector<uint8_t> fh) {
  FileShard& sh = shard(file);
  std::unique_lock lock(sh.mu);
  auto& waiters = sh.files[file].waiters;
  for (const auto& w : waiters) {
    if (w.clientid == client.id && w.owner == owner) return;
  }
  if (waiters.size() >= kMaxLockWaitersPerFile) return;
  waiters.push_back({client.id, owner, std::move(fh)});
}

std::optional<std::string> StateManager::lock_owner_of(const ClientRecord& client,
                                                       const Stateid& stateid,
                                                       const FileKey& file) const {
  const FileShard& sh = shard(file);
  std::shared_lock lock(sh.mu);
  StateEntry* e = nullptr;
  if (validate_locked(sh, &client, stateid, e) != NFS4_OK || e->kind != StateKind::kLock) {
    return std::nullopt;
  }
  return static_cast<const LockState*>(e)->owner->key.owner;
}

std::vector<LockNotice> StateManager::take_lock_waiters(const FileKey& file) {
  FileShard& sh = shard(file);
  std::unique_lock lock(sh.mu);
  auto fit = sh.files.find(file);
  if (fit == sh.files.end() || fit->second.waiters.empty()) return {};
  std::vector<LockNotice> out;
  for (auto& w : fit->second.waiters)
    out.push_back({w.clientid, std::move(w.owner), std::move(w.fh)});
  fit->second.waiters.clear();
  if (fit->second.empty()) sh.files.erase(fit);
  return out;
}

}  // namespace dfs::nfs4::state
