#pragma once
// The clients that hold state, kept on disk so that after a restart the server knows whom to
// let reclaim (RFC 8881 §8.4.2.1: a server must not grant a reclaim to a client that held no
// state before it restarted). A client is recorded when it finishes reclaiming
// (RECLAIM_COMPLETE, §18.51), the point from which it may hold new state, and forgotten when
// its record ends (DESTROY_CLIENTID, lease expiry, eviction). One file per client owner under
// a directory; written to a temporary name, synced and renamed, so a crash leaves each one
// whole or absent.

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace dfs::nfs4::state {

class ClientStore {
 public:
  // Creates the directory if needed; throws std::runtime_error when it cannot.
  explicit ClientStore(std::string dir);

  // The owners recorded (by an earlier run of the server, at start).
  std::vector<std::vector<uint8_t>> load() const;
  // Durable when it returns true; false (and logged) on an I/O error.
  bool record(const std::vector<uint8_t>& owner);
  void forget(const std::vector<uint8_t>& owner);

 private:
  std::string path_of(const std::vector<uint8_t>& owner) const;

  const std::string dir_;
  std::mutex mu_;  // one writer at a time: record and forget of one owner stay ordered
};

}  // namespace dfs::nfs4::state
