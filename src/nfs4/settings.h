#pragma once
// The NFS adapter's tunables. A Settings value is immutable once published; changing a
// setting publishes a new snapshot, which new sessions and connections pick up (live
// settings, DESIGN.md). Readers take a snapshot per use and never see a half-applied change.

#include <cstdint>
#include <memory>

#include "util/published.h"

namespace dfs::nfs4 {

struct Settings {
  uint32_t lease_time = 90;             // seconds (RFC 5661 §8.3)
  uint32_t grace_period = 90;           // seconds
  uint32_t max_record_size = 4u << 20;  // bytes of one RPC record
  uint32_t max_compound_ops = 128;      // operations in one COMPOUND
  uint32_t max_read_size = 1u << 20;    // bytes per READ
  uint32_t max_write_size = 1u << 20;   // bytes per WRITE
  uint32_t v4_max_session_slots = 64;   // fore-channel slots per session
  uint32_t v4_max_sessions_per_client = 16;
  uint32_t v4_max_connections_per_session = 16;  // 0 = unlimited
  uint32_t max_connections = 0;  // open NFS connections in all; 0 = the descriptor limit less 256
  uint32_t idle_timeout = 300;   // seconds a connection bound to no session may idle; 0 = never
  // Budgets that bound what one client, or all of them, can make the server hold
  // (docs/protocol.md, "Budgets"). 0 for a memory budget: sized to the machine.
  uint32_t max_clients = 16384;  // client records, confirmed or not
  uint32_t max_lock_owners_per_client = 4096;
  uint32_t max_locks_per_client = 65536;  // byte ranges held
  uint32_t reply_cache_budget_mb = 0;     // cached replies of all sessions, worst case
  uint32_t receive_budget_mb = 0;         // unfinished records being received
  bool delegations_enabled = true;
  uint32_t max_delegations = 10000;
  uint32_t callback_timeout = 10;  // seconds
  uint32_t min_minor_version = 1;
  uint32_t max_minor_version = 2;
};

// Every COMPOUND takes a snapshot; util::Published keeps that free of writes to memory other
// reactors use.
class SettingsHolder {
 public:
  SettingsHolder() : current_(Settings{}) {}
  explicit SettingsHolder(Settings s) : current_(s) {}

  std::shared_ptr<const Settings> get() const { return current_.get(); }
  void set(const Settings& s) { current_.set(s); }

 private:
  util::Published<Settings> current_;
};

}  // namespace dfs::nfs4
