#pragma once
// Every open connection of a transport by id, in shards (accepts and closes on different
// reactors do not contend), so the control plane and the NFS layer can find a connection
// from any thread.

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "rpc/connection.h"
#include "util/cells.h"

namespace dfs::rpc {

class ConnectionRegistry {
 public:
  // A connection was accepted and is on its way to a reactor: it counts from now on (limits
  // see it at once), and add() makes it findable.
  void expect() { count_.fetch_add(1, std::memory_order_relaxed); }
  void add(const std::shared_ptr<Connection>& c) {
    Shard& s = shard(c->id());
    std::lock_guard lock(s.mu);
    s.map[c->id()] = c;
  }
  // Removes an added connection (and its count).
  void remove(uint64_t id) {
    Shard& s = shard(id);
    std::lock_guard lock(s.mu);
    if (s.map.erase(id)) count_.fetch_sub(1, std::memory_order_relaxed);
  }
  std::shared_ptr<Connection> find(uint64_t id) const {
    const Shard& s = shard(id);
    std::lock_guard lock(s.mu);
    auto it = s.map.find(id);
    return it == s.map.end() ? nullptr : it->second;
  }
  std::vector<std::shared_ptr<Connection>> all() const {
    std::vector<std::shared_ptr<Connection>> out;
    for (const auto& s : shards_) {
      std::lock_guard lock(s.mu);
      for (const auto& [id, c] : s.map)
        out.push_back(c);
    }
    return out;
  }
  // Open connections, those still on their way to a reactor included.
  size_t size() const { return count_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kShards = 16;
  struct alignas(util::kCacheLine) Shard {
    mutable std::mutex mu;
    std::unordered_map<uint64_t, std::shared_ptr<Connection>> map;
  };
  Shard& shard(uint64_t id) { return shards_[id % kShards]; }
  const Shard& shard(uint64_t id) const { return shards_[id % kShards]; }

  std::array<Shard, kShards> shards_;
  std::atomic<size_t> count_{0};
};

}  // namespace dfs::rpc
