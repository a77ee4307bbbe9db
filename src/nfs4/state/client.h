#pragma once
// A client record (RFC 5661 §2.4): the client owner, its verifier and principal, whether it
// is confirmed, the CREATE_SESSION sequence (§18.36.4) with the cached last reply, its lease,
// and what it holds (sessions, open and lock owners).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "nfs4/op_types.h"
#include "nfs4/types.h"
#include "rpc/constants.h"

namespace dfs::nfs4::state {

class Session;
struct OpenOwner;
struct LockOwner;

// Who created a client record; EXCHANGE_ID compares principals (§18.35.4).
struct Principal {
  rpc::AuthFlavor flavor = rpc::AuthFlavor::kNone;
  uint32_t uid = 0;
  friend bool operator==(const Principal&, const Principal&) = default;
};

using SteadyClock = std::chrono::steady_clock;

struct ClientRecord {
  uint64_t id = 0;
  std::vector<uint8_t> owner;
  Verifier verifier{};
  Principal principal;
  bool confirmed = false;
  uint32_t exchange_flags = 0;
  std::string peer;  // address of the connection that sent EXCHANGE_ID
  uint32_t minor_version = 1;
  std::string impl_name;
  std::chrono::system_clock::time_point created_at = std::chrono::system_clock::now();

  // CREATE_SESSION sequencing: the next expected csa_sequence, and the last result.
  uint32_t create_session_seq = 1;
  std::optional<CreateSessionResult> last_create_session;

  std::atomic<bool> reclaim_complete{false};  // read by OPEN before it takes the state lock
  std::atomic<int64_t> last_renew_ns{0};      // steady clock, renewed by SEQUENCE

  std::map<SessionId, std::shared_ptr<Session>> sessions;
  std::set<OpenOwner*> open_owners;
  std::set<LockOwner*> lock_owners;

  void renew() {
    last_renew_ns.store(SteadyClock::now().time_since_epoch().count(), std::memory_order_relaxed);
  }
  SteadyClock::time_point last_renew() const {
    return SteadyClock::time_point(SteadyClock::duration(last_renew_ns.load()));
  }
  bool has_state() const { return !open_owners.empty() || !lock_owners.empty(); }
};

}  // namespace dfs::nfs4::state
