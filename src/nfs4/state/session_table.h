#pragma once
// Sessions by id, in shards with a lock each: SEQUENCE looks its session up on every request
// from every reactor, and sixteen clients on sixteen sessions must not share one lock word
// to do it. Session ids carry 64 random bits (state_manager.cpp), which pick the shard.
// Sessions that land in one shard still do not: a lookup takes the shard's lock shared, and
// its readers write only a slot of their own thread's (util::ReaderSlotsSharedMutex).

#include <array>
#include <cstring>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "nfs4/state/session.h"
#include "util/cells.h"
#include "util/reader_slots_shared_mutex.h"

namespace dfs::nfs4::state {

class SessionTable {
 public:
  static constexpr size_t kShards = 64;

  std::shared_ptr<Session> find(const SessionId& id) const {
    const Shard& s = shard(id);
    std::shared_lock lock(s.mu);
    auto it = s.map.find(id);
    return it == s.map.end() ? nullptr : it->second;
  }
  void insert(const std::shared_ptr<Session>& session) {
    Shard& s = shard(session->id);
    std::lock_guard lock(s.mu);
    s.map[session->id] = session;
  }
  void erase(const SessionId& id) {
    Shard& s = shard(id);
    std::lock_guard lock(s.mu);
    s.map.erase(id);
  }
  size_t size() const {
    size_t n = 0;
    for (const auto& s : shards_) {
      std::shared_lock lock(s.mu);
      n += s.map.size();
    }
    return n;
  }
  // Every session (a snapshot, for the control plane and scrapes).
  std::vector<std::shared_ptr<Session>> all() const {
    std::vector<std::shared_ptr<Session>> out;
    for (const auto& s : shards_) {
      std::shared_lock lock(s.mu);
      for (const auto& [id, session] : s.map)
        out.push_back(session);
    }
    return out;
  }

 private:
  struct SessionIdHash {
    size_t operator()(const SessionId& id) const {
      uint64_t h;
      std::memcpy(&h, id.data() + 8, sizeof h);  // the random half
      return static_cast<size_t>(h);
    }
  };
  struct alignas(util::kCacheLine) Shard {
    mutable util::ReaderSlotsSharedMutex mu;
    std::unordered_map<SessionId, std::shared_ptr<Session>, SessionIdHash> map;
  };
  Shard& shard(const SessionId& id) { return shards_[SessionIdHash()(id) % kShards]; }
  const Shard& shard(const SessionId& id) const { return shards_[SessionIdHash()(id) % kShards]; }

  std::array<Shard, kShards> shards_;
};

}  // namespace dfs::nfs4::state
