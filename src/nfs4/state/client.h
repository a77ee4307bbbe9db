#pragma once
// A client record (RFC 5661 §2.4): the client owner, its verifier and principal, the state
// protection it chose (§18.35), whether it is confirmed, the CREATE_SESSION sequence
// (§18.36.4) with the cached last reply, its lease, and where it holds state (sessions; the
// file-state shards holding its open and lock owners).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
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

// State protection (§2.10.8.3, §18.35): with SP4_MACH_CRED the principal that created the
// client id is its machine credential, and the operations in `must_enforce` are refused
// (NFS4ERR_WRONG_CRED) from anyone else. Over AUTH_SYS that credential is a uid the client
// asserts, so this protects against mistakes and other users' processes, not against a host
// that lies (docs/protocol.md).
struct StateProtection {
  state_protect_how4 how = SP4_NONE;
  Bitmap must_enforce;
  Bitmap must_allow;
  bool enforces(uint32_t op) const { return how == SP4_MACH_CRED && must_enforce.test(op); }
};

using SteadyClock = std::chrono::steady_clock;

struct ClientRecord {
  uint64_t id = 0;
  std::vector<uint8_t> owner;
  Verifier verifier{};
  Principal principal;
  StateProtection protect;
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
  // Its lease ran out and the reaper kept it (StateManager::reap_expired); set and cleared
  // by the reaper, for reports. Whether a client is past its lease is last_renew's to say.
  std::atomic<bool> courtesy{false};

  std::map<SessionId, std::shared_ptr<Session>> sessions;
  // Bit n set: file-state shard n may hold this client's owners (set under that shard's
  // lock when the first owner is made there; never cleared, so a purge visits only these).
  std::atomic<uint64_t> file_shards{0};
  // Delegations revoked and not yet freed: SEQUENCE says SEQ4_STATUS_RECALLABLE_STATE_REVOKED
  // while there are any (§18.46.3).
  std::atomic<uint32_t> revoked_delegations{0};
  // Sessions whose back channel failed its last probe or callback: when it is all of them,
  // SEQUENCE says SEQ4_STATUS_CB_PATH_DOWN too (no callback path to the client at all).
  std::atomic<uint32_t> cb_paths_down{0};
  std::atomic<uint32_t> session_count{0};  // sessions.size(), readable without the lock
  // What the client holds against its budgets (max_lock_owners_per_client,
  // max_locks_per_client); changed under the file shard locks of its own operations.
  std::atomic<uint32_t> lock_owners{0};
  std::atomic<uint32_t> lock_ranges{0};

  // Called by every SEQUENCE, possibly from several reactors at once (a client with several
  // connections). Leases are counted in seconds, so the time is stored only when it moved on
  // by kRenewGranularity: between those, renewing reads a cache line and writes nothing.
  static constexpr std::chrono::milliseconds kRenewGranularity{10};
  void renew() {
    const int64_t now = SteadyClock::now().time_since_epoch().count();
    const int64_t last = last_renew_ns.load(std::memory_order_relaxed);
    if (now - last >= std::chrono::nanoseconds(kRenewGranularity).count()) {
      last_renew_ns.store(now, std::memory_order_relaxed);
    }
  }
  SteadyClock::time_point last_renew() const {
    return SteadyClock::time_point(SteadyClock::duration(last_renew_ns.load()));
  }
};

}  // namespace dfs::nfs4::state
