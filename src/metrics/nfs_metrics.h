#pragma once
// The NFS server's metrics (docs/metrics.md lists them): an OpObserver and a StateObserver
// that count into a Registry, plus gauges computed from the transport and the state manager
// at scrape time.
//
// Per-operation series are found through arrays indexed by op number and by a compact status
// index, each slot caching a pointer to its series once created: the per-op cost is two
// array loads and two or three relaxed atomic adds, no map lookup and no lock.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "metrics/registry.h"
#include "nfs4/constants.h"
#include "nfs4/service.h"
#include "nfs4/state/state_manager.h"
#include "rpc/tcp_server.h"

namespace dfs::metrics {

class NfsMetrics final : public nfs4::OpObserver,
                         public nfs4::state::StateObserver,
                         public nfs4::CallbackObserver,
                         public rpc::TransportObserver {
 public:
  // Registers the families in `registry` (throws std::invalid_argument if they exist there
  // already). `service` and `transport` are read at scrape time and must outlive this object.
  NfsMetrics(Registry& registry, nfs4::Nfs4Service& service, rpc::TcpServer& transport);
  // Detaches (if attached) and removes the families from the registry.
  ~NfsMetrics() override;
  NfsMetrics(const NfsMetrics&) = delete;
  NfsMetrics& operator=(const NfsMetrics&) = delete;

  // Becomes the service's OpObserver, its state manager's StateObserver and the transport's
  // TransportObserver. Call before the transport starts: the observer pointers are plain
  // pointers read by the reactor threads.
  void attach();
  // Stops observing; call after the transport stopped, for the same reason.
  void detach();

  // ---- OpObserver ----
  void op_done(uint32_t op, nfs4::nfsstat4 status, std::chrono::nanoseconds elapsed) override;
  void compound_done(nfs4::nfsstat4 status) override;
  void replay(size_t bytes) override;
  void bytes_read(uint64_t n) override;
  void bytes_written(uint64_t n, bool out_of_line) override;

  // ---- StateObserver ----
  void session_created(const nfs4::state::Session&) override;
  void session_ended(const nfs4::state::Session&, nfs4::state::EndReason why) override;
  void client_created(const nfs4::state::ClientRecord&) override;
  void client_ended(const nfs4::state::ClientRecord&, nfs4::state::EndReason why) override;
  void connection_bound(const nfs4::state::Session& s, nfs4::state::ConnDirection dir) override;
  void connection_unbound(const nfs4::state::Session& s, nfs4::state::UnbindReason why) override;
  void binding_rejected(nfs4::state::RejectReason why) override;
  void delegation_granted(nfs4::state::DelegType type) override;
  void delegation_recalled(nfs4::state::RecallReason why) override;
  void delegation_revoked() override;
  void budget_refused(nfs4::state::Budget b) override;

  // ---- CallbackObserver ----
  void callback_sent(uint32_t op) override;
  void callback_failed(const std::string& reason) override;
  void callback_retried() override;
  void callback_done(std::chrono::nanoseconds elapsed) override;

  // ---- TransportObserver ----
  void connection_shed(rpc::ShedReason why) override;

  // Index spaces of the per-op arrays. Ops 0..kLastOp42 by number; anything else (and
  // numbers the op table does not name) shares the ILLEGAL slot.
  static constexpr size_t kIllegalOp = nfs4::kLastOp42 + 1;
  static constexpr size_t kOpSlots = kIllegalOp + 1;
  static size_t op_index(uint32_t op);
  static const char* op_label(size_t index);
  // Every nfsstat4 in the enum gets its own index (NFS4_OK is 0); unknown values share the
  // last one, labelled "UNKNOWN".
  static size_t status_index(uint32_t status);
  static size_t status_slots();
  static const char* status_label(size_t index);

  // The families' names (the contract with dashboards; docs/metrics.md).
  static constexpr const char* kOperations = "dittofs_nfs_operations_total";
  static constexpr const char* kOperationDuration = "dittofs_nfs_operation_duration_seconds";
  static constexpr const char* kCompounds = "dittofs_nfs_compounds_total";
  static constexpr const char* kReadBytes = "dittofs_nfs_read_bytes_total";
  static constexpr const char* kWrittenBytes = "dittofs_nfs_written_bytes_total";
  static constexpr const char* kWrittenBytesOutOfLine =
      "dittofs_nfs_written_bytes_out_of_line_total";
  static constexpr const char* kSequences = "dittofs_nfs_sequence_total";
  static constexpr const char* kSequenceErrors = "dittofs_nfs_sequence_errors_total";
  static constexpr const char* kReplayHits = "dittofs_nfs_replay_cache_hits_total";
  static constexpr const char* kReplayBytes = "dittofs_nfs_replay_cache_bytes_total";
  static constexpr const char* kSessionsCreated = "dittofs_nfs_sessions_created_total";
  static constexpr const char* kSessionsDestroyed = "dittofs_nfs_sessions_destroyed_total";
  static constexpr const char* kSessionsActive = "dittofs_nfs_sessions_active";
  static constexpr const char* kClientsCreated = "dittofs_nfs_clients_created_total";
  static constexpr const char* kClientsDestroyed = "dittofs_nfs_clients_destroyed_total";
  static constexpr const char* kClientsActive = "dittofs_nfs_clients_active";
  static constexpr const char* kSlotsInUse = "dittofs_nfs_slots_in_use";
  static constexpr const char* kConnectionsActive = "dittofs_nfs_connections_active";
  static constexpr const char* kConnectionsBind = "dittofs_nfs_connections_bind_total";
  static constexpr const char* kConnectionsUnbind = "dittofs_nfs_connections_unbind_total";
  static constexpr const char* kConnectionsBound = "dittofs_nfs_connections_bound";
  static constexpr const char* kConnectionsRejected = "dittofs_nfs_connections_rejected_total";
  static constexpr const char* kCallbacks = "dittofs_nfs_backchannel_callbacks_total";
  static constexpr const char* kCallbackFailures =
      "dittofs_nfs_backchannel_callback_failures_total";
  static constexpr const char* kCallbackRetries = "dittofs_nfs_backchannel_callback_retries_total";
  static constexpr const char* kCallbackDuration =
      "dittofs_nfs_backchannel_callback_duration_seconds";
  static constexpr const char* kUnmatchedReplies =
      "dittofs_nfs_backchannel_unmatched_replies_total";
  static constexpr const char* kDelegationsGranted = "dittofs_nfs_delegations_granted_total";
  static constexpr const char* kDelegationsRecalled = "dittofs_nfs_delegations_recalled_total";
  static constexpr const char* kDelegationsRevoked = "dittofs_nfs_delegations_revoked_total";
  static constexpr const char* kDelegationsActive = "dittofs_nfs_delegations_active";
  static constexpr const char* kBudgetRefusals = "dittofs_nfs_budget_refusals_total";
  static constexpr const char* kBuildInfo = "dittofs_build_info";

 private:
  // A lazily filled cache of series pointers: the first update of a series creates it (under
  // the family's mutex), later ones only load the pointer.
  template <class M>
  struct SeriesCache {
    explicit SeriesCache(size_t n) : slots(new std::atomic<M*>[n]) {
      for (size_t i = 0; i < n; ++i)
        slots[i].store(nullptr, std::memory_order_relaxed);
    }
    std::unique_ptr<std::atomic<M*>[]> slots;
  };
  Counter& op_counter(size_t op, size_t status);
  Histogram& op_histogram(size_t op);
  Counter& status_counter(SeriesCache<Counter>& cache, CounterFamily& family, size_t status);

  Registry& registry_;
  nfs4::Nfs4Service& service_;
  rpc::TcpServer& transport_;
  std::vector<std::string> registered_;  // to remove them again
  bool attached_ = false;

  CounterFamily* operations_ = nullptr;
  HistogramFamily* durations_ = nullptr;
  CounterFamily* compounds_ = nullptr;
  CounterFamily* sequence_errors_ = nullptr;
  Counter* read_bytes_ = nullptr;
  Counter* written_bytes_ = nullptr;
  Counter* written_bytes_out_of_line_ = nullptr;
  Counter* sequences_ = nullptr;
  Counter* replay_hits_ = nullptr;
  Counter* replay_bytes_ = nullptr;
  Counter* sessions_created_ = nullptr;
  Counter* clients_created_ = nullptr;
  std::array<Counter*, 4> sessions_destroyed_{};  // by EndReason
  std::array<Counter*, 4> clients_destroyed_{};
  std::array<Counter*, 4> binds_{};     // by ConnDirection value (1..3)
  std::array<Counter*, 5> unbinds_{};   // by UnbindReason
  std::array<Counter*, 4> rejected_{};  // session_limit, wrong_cred, max_connections, idle_timeout
  GaugeFamily* bound_ = nullptr;        // per session, set when its bindings change
  CounterFamily* callbacks_ = nullptr;
  CounterFamily* callback_failures_ = nullptr;
  Counter* callback_retries_ = nullptr;
  Histogram* callback_duration_ = nullptr;
  Counter* unmatched_replies_ = nullptr;
  std::array<Counter*, 2> delegs_granted_{};   // by DelegType
  std::array<Counter*, 5> delegs_recalled_{};  // by RecallReason
  Counter* delegs_revoked_ = nullptr;
  std::array<Counter*, 5> budget_refusals_{};  // by state::Budget, then receive

  SeriesCache<Counter> op_counts_;              // [op * status_slots() + status]
  SeriesCache<Histogram> op_durations_;         // [op]
  SeriesCache<Counter> compound_counts_;        // [status]
  SeriesCache<Counter> sequence_error_counts_;  // [status]
};

// The daemon's one call: creates the metrics for `service` and `transport` in `registry` and
// attaches them (so call it before the transport starts). Destroy the result after the
// transport stopped and before `service` and `transport` go away.
std::unique_ptr<NfsMetrics> attach_nfs_metrics(Registry& registry, nfs4::Nfs4Service& service,
                                               rpc::TcpServer& transport);

// "destroyed", "expired", "evicted", "replaced".
const char* end_reason_label(nfs4::state::EndReason why);

}  // namespace dfs::metrics
