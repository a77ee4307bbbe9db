#pragma once
// The NFSv4 service: what every COMPOUND works against (the namespace, the state, the
// settings) plus the server's identity on the wire (server owner and scope, the write
// verifier). One per daemon.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nfs4/callback.h"
#include "nfs4/settings.h"
#include "nfs4/state/state_manager.h"
#include "nfs4/types.h"
#include "rpc/outbound_calls.h"
#include "util/work_pool.h"
#include "vfs/namespace.h"

namespace dfs::nfs4 {

// Told about every operation executed (metrics hang on this).
class OpObserver {
 public:
  virtual ~OpObserver() = default;
  virtual void op_done(uint32_t op, nfsstat4 status, std::chrono::nanoseconds elapsed) = 0;
  virtual void compound_done(nfsstat4 status) { (void)status; }
  virtual void sequence_error(nfsstat4 status) { (void)status; }
  virtual void replay(size_t bytes) { (void)bytes; }
  virtual void bytes_read(uint64_t n) { (void)n; }
  // `out_of_line`: the transport received the bytes straight into file buffers.
  virtual void bytes_written(uint64_t n, bool out_of_line) {
    (void)n;
    (void)out_of_line;
  }
};

class Nfs4Service {
 public:
  Nfs4Service(vfs::Namespace& ns, SettingsHolder& settings);
  ~Nfs4Service();

  vfs::Namespace& ns;
  SettingsHolder& settings;
  state::StateManager state;
  // Calls to clients over their back channels (replies come in through the dispatcher's
  // reply sink), and the callbacks built on them.
  rpc::OutboundCalls outbound;
  CallbackService callbacks{state, settings, outbound};

  // Starts and stops the lease reaper and the callback timer.
  void start();
  void stop();
  // Sends the callbacks the state layer asked for (after the locks that decided them are gone).
  void send_recalls(const std::vector<state::Recall>& recalls);
  // Tells clients waiting for a lock on `file` that they may try again (CB_NOTIFY_LOCK).
  void notify_lock_waiters(const state::FileKey& file);

  // Changes when the server restarts, so clients know to resend uncommitted writes
  // (§18.32.3).
  const Verifier& write_verifier() const { return write_verifier_; }
  const ServerOwner& server_owner() const { return server_owner_; }
  const std::vector<uint8_t>& server_scope() const { return server_scope_; }
  // Names this server instance on the wire (§2.5, §2.10.5): server_owner's major id and the
  // server scope become "dittofs:<id>". The daemon keeps the id in its data directory, so it
  // survives restarts and differs between two instances on one host; until it is set, the
  // id is random. Set before the transport starts.
  void set_instance_id(const std::string& id);
  const std::string& instance_id() const { return instance_id_; }
  const std::string& impl_name() const { return impl_name_; }

  void set_observer(OpObserver* o) { observer_ = o; }
  OpObserver* observer() const { return observer_; }

  // Where a COMPOUND whose changes must reach the disk before its reply waits for the disk
  // (program.cpp); declared last, so it drains before the rest of the service goes.
  static constexpr size_t kSyncThreads = 32;
  util::WorkPool& sync_pool() { return sync_pool_; }

 private:
  Verifier write_verifier_{};
  std::string instance_id_;
  ServerOwner server_owner_;
  std::vector<uint8_t> server_scope_;
  std::string impl_name_;
  OpObserver* observer_ = nullptr;
  util::WorkPool sync_pool_{kSyncThreads};
};

}  // namespace dfs::nfs4
