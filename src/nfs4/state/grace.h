#pragma once
// The grace period after a restart (RFC 8881 §8.4.2): for its length, the clients that held
// state before may reclaim it (OPEN with CLAIM_PREVIOUS, LOCK with reclaim), and nobody gets
// new state (NFS4ERR_GRACE), so no new lock or share reservation can take what a reclaim
// will ask for. It ends when its time is up, when every client that held state has sent
// RECLAIM_COMPLETE, or when an operator ends it.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace dfs::nfs4::state {

class GracePeriod {
 public:
  using Owner = std::vector<uint8_t>;
  using Clock = std::chrono::steady_clock;

  // Starts it for the clients in `previous` (no grace when there are none or `length` is 0).
  // A reclaim in its last second extends it by a second, `max_extension` in all (as the
  // Linux server does, up to a lease): a client in the middle of reclaiming is not cut off.
  void begin(const std::vector<Owner>& previous, std::chrono::seconds length,
             std::chrono::seconds max_extension = std::chrono::seconds(0));
  // Whether the server is in grace now. A plain load while not in grace (the OPEN hot path).
  bool active();
  // Whether `owner` may reclaim: in grace, held state before, not yet done reclaiming.
  bool may_reclaim(const Owner& owner);
  // The client `owner` sent RECLAIM_COMPLETE.
  void reclaimed(const Owner& owner);
  void end(const char* why);

  struct Status {
    bool active = false;
    int64_t remaining_seconds = 0;
    size_t clients_expected = 0;
    size_t clients_reclaimed = 0;
  };
  Status status();

 private:
  // Ends it if its time is up or every expected client is done; mu_ held.
  bool still_active_locked();

  std::atomic<bool> active_{false};
  std::mutex mu_;
  // Owners as strings of their bytes (a set of byte vectors trips GCC 12's
  // -Wstringop-overread at -O3 in its three-way comparison).
  static std::string key(const Owner& o) { return std::string(o.begin(), o.end()); }
  std::set<std::string> expected_;
  std::set<std::string> reclaimed_;
  Clock::time_point deadline_{};
  Clock::duration extension_left_{};
};

}  // namespace dfs::nfs4::state
