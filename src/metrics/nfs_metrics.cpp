#include "metrics/nfs_metrics.h"

#include <cstring>

#include "util/build_info.h"

namespace dfs::metrics {

namespace {

using nfs4::nfsstat4;
using nfs4::state::ConnDirection;
using nfs4::state::EndReason;

std::string session_label(const nfs4::SessionId& id) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (uint8_t b : id) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// nfsstat4 values sit in two dense runs (RFC 5661 §15.1): 0..NFS4ERR_STALE and
// NFS4ERR_BADHANDLE..NFS4ERR_DELEG_REVOKED. Two small arrays map them to compact indexes.
constexpr uint32_t kLowLast = nfs4::NFS4ERR_STALE;
constexpr uint32_t kHighFirst = nfs4::NFS4ERR_BADHANDLE;
constexpr uint32_t kHighLast = nfs4::NFS4ERR_DELEG_REVOKED;

struct StatusTable {
  std::array<uint16_t, kLowLast + 1> low{};
  std::array<uint16_t, kHighLast - kHighFirst + 1> high{};
  std::vector<const char*> names;  // by index; the last is "UNKNOWN"
  uint16_t unknown = 0;

  StatusTable() {
    // Values the enum does not name (the gaps) get the shared "UNKNOWN" index, so two of
    // them can never produce two series with the same label.
    constexpr uint16_t kGap = UINT16_MAX;
    auto index_of = [this](uint32_t v) -> uint16_t {
      const char* n = nfs4::status_name(v);
      if (std::strcmp(n, "UNKNOWN") == 0) return kGap;
      names.push_back(n);
      return static_cast<uint16_t>(names.size() - 1);
    };
    for (uint32_t v = 0; v <= kLowLast; ++v)
      low[v] = index_of(v);
    for (uint32_t v = kHighFirst; v <= kHighLast; ++v)
      high[v - kHighFirst] = index_of(v);
    unknown = static_cast<uint16_t>(names.size());
    names.push_back("UNKNOWN");
    for (auto& i : low)
      i = i == kGap ? unknown : i;
    for (auto& i : high)
      i = i == kGap ? unknown : i;
  }
};

const StatusTable& status_table() {
  static const StatusTable t;
  return t;
}

struct OpTable {
  std::array<const char*, NfsMetrics::kOpSlots> names{};  // nullptr: not an op
  OpTable() {
    for (uint32_t op = 0; op < NfsMetrics::kIllegalOp; ++op) {
      const char* n = nfs4::opname(op);
      names[op] = std::strcmp(n, "UNKNOWN") == 0 ? nullptr : n;
    }
    names[NfsMetrics::kIllegalOp] = "ILLEGAL";
  }
};

const OpTable& op_table() {
  static const OpTable t;
  return t;
}

constexpr EndReason kReasons[] = {EndReason::kDestroyed, EndReason::kExpired, EndReason::kEvicted,
                                  EndReason::kReplaced};

}  // namespace

const char* end_reason_label(EndReason why) {
  switch (why) {
    case EndReason::kDestroyed:
      return "destroyed";
    case EndReason::kExpired:
      return "expired";
    case EndReason::kEvicted:
      return "evicted";
    case EndReason::kReplaced:
      return "replaced";
  }
  return "unknown";
}

size_t NfsMetrics::op_index(uint32_t op) {
  if (op < kIllegalOp && op_table().names[op]) return op;
  return kIllegalOp;
}

const char* NfsMetrics::op_label(size_t index) {
  const char* n = index < kOpSlots ? op_table().names[index] : nullptr;
  return n ? n : "ILLEGAL";
}

size_t NfsMetrics::status_index(uint32_t status) {
  const StatusTable& t = status_table();
  if (status <= kLowLast) return t.low[status];
  if (status >= kHighFirst && status <= kHighLast) return t.high[status - kHighFirst];
  return t.unknown;
}

size_t NfsMetrics::status_slots() {
  return status_table().names.size();
}

const char* NfsMetrics::status_label(size_t index) {
  const StatusTable& t = status_table();
  return index < t.names.size() ? t.names[index] : "UNKNOWN";
}

NfsMetrics::NfsMetrics(Registry& registry, nfs4::Nfs4Service& service, rpc::TcpServer& transport)
    : registry_(registry),
      service_(service),
      transport_(transport),
      op_counts_(kOpSlots * status_slots()),
      op_durations_(kOpSlots),
      compound_counts_(status_slots()),
      sequence_error_counts_(status_slots()) {
  auto counter = [this](const char* name, const char* help,
                        std::vector<std::string> labels = {}) -> CounterFamily& {
    auto& f = registry_.counter(name, help, std::move(labels));
    registered_.push_back(name);
    return f;
  };
  auto computed = [this](const char* name, const char* help, std::function<double()> fn) {
    registry_.computed_gauge(name, help, std::move(fn));
    registered_.push_back(name);
  };
  try {
    operations_ = &counter(kOperations, "NFSv4 operations executed, by operation and result.",
                           {"op", "status"});
    durations_ = &registry_.histogram(kOperationDuration,
                                      "Time to execute one NFSv4 operation, by operation.",
                                      Registry::latency_buckets(), {"op"});
    registered_.push_back(kOperationDuration);
    compounds_ =
        &counter(kCompounds, "NFSv4 COMPOUND requests answered, by final status.", {"status"});
    read_bytes_ = &counter(kReadBytes, "File data bytes returned by READ.").labels();
    written_bytes_ = &counter(kWrittenBytes, "File data bytes accepted by WRITE.").labels();
    written_bytes_out_of_line_ =
        &counter(kWrittenBytesOutOfLine,
                 "Part of them received straight into file buffers (copied once, by the kernel).")
             .labels();
    sequences_ = &counter(kSequences, "SEQUENCE operations processed, replays included.").labels();
    sequence_errors_ =
        &counter(kSequenceErrors, "SEQUENCE operations that failed, by error.", {"error"});
    replay_hits_ =
        &counter(kReplayHits, "Retried requests answered from a slot's reply cache.").labels();
    replay_bytes_ =
        &counter(kReplayBytes, "Bytes of cached replies sent again for retried requests.").labels();
    sessions_created_ = &counter(kSessionsCreated, "NFSv4.1 sessions created.").labels();
    auto& sessions_destroyed =
        counter(kSessionsDestroyed, "NFSv4.1 sessions ended, by why.", {"reason"});
    clients_created_ = &counter(kClientsCreated, "NFSv4.1 client IDs confirmed.").labels();
    auto& clients_destroyed =
        counter(kClientsDestroyed, "Confirmed NFSv4.1 client IDs ended, by why.", {"reason"});
    // Every reason exists from the start, so a rate() over them has a 0 to start from.
    for (EndReason why : kReasons) {
      const auto i = static_cast<size_t>(why);
      sessions_destroyed_[i] = &sessions_destroyed.labels({end_reason_label(why)});
      clients_destroyed_[i] = &clients_destroyed.labels({end_reason_label(why)});
    }

    computed(kSessionsActive, "NFSv4.1 sessions that exist now.",
             [&s = service_.state] { return static_cast<double>(s.session_count()); });
    computed(kClientsActive, "NFSv4.1 client records that exist now (confirmed or not).",
             [&s = service_.state] { return static_cast<double>(s.client_count()); });
    computed(kSlotsInUse, "Session slots executing a request now, over all sessions.",
             [&s = service_.state] { return static_cast<double>(s.slots_in_use()); });
    computed(kConnectionsActive, "NFS TCP connections open now.",
             [&t = transport] { return static_cast<double>(t.connection_count()); });
    auto& binds = counter(kConnectionsBind,
                          "Connections bound to a session, or rebound, by the direction granted.",
                          {"direction"});
    for (auto dir : {ConnDirection::kFore, ConnDirection::kBack, ConnDirection::kBoth}) {
      binds_[static_cast<size_t>(dir)] = &binds.labels({nfs4::state::direction_name(dir)});
    }
    auto& unbinds = counter(kConnectionsUnbind,
                            "Connection bindings to sessions that ended, by why.", {"reason"});
    for (size_t i = 0; i < unbinds_.size(); ++i) {
      unbinds_[i] = &unbinds.labels(
          {nfs4::state::unbind_reason_name(static_cast<nfs4::state::UnbindReason>(i))});
    }
    auto& rejected =
        counter(kConnectionsRejected,
                "Connections or bindings refused or shed: over a session's connection limit, "
                "the wrong credential for a protected client, over the server's connection "
                "limit, idle without a session.",
                {"reason"});
    for (size_t i = 0; i < 2; ++i) {
      rejected_[i] = &rejected.labels(
          {nfs4::state::reject_reason_name(static_cast<nfs4::state::RejectReason>(i))});
    }
    rejected_[2] = &rejected.labels({rpc::shed_reason_name(rpc::ShedReason::kMaxConnections)});
    rejected_[3] = &rejected.labels({rpc::shed_reason_name(rpc::ShedReason::kIdleTimeout)});
    bound_ =
        &registry_.gauge(kConnectionsBound, "Connections bound to each session now.", {"session"});
    registered_.push_back(kConnectionsBound);

    callbacks_ = &counter(kCallbacks,
                          "Callbacks sent to clients over their back channels, by operation "
                          "(the first after CB_SEQUENCE; CB_NULL for probes).",
                          {"op"});
    callback_failures_ =
        &counter(kCallbackFailures, "Callbacks that did not reach the client, by why.", {"reason"});
    callback_retries_ =
        &counter(kCallbackRetries, "Callbacks sent again after no answer or NFS4ERR_DELAY.")
             .labels();
    callback_duration_ =
        &registry_
             .histogram(kCallbackDuration, "Time from queuing a callback to the client's answer.",
                        Registry::latency_buckets())
             .labels();
    registered_.push_back(kCallbackDuration);
    unmatched_replies_ =
        &counter(kUnmatchedReplies, "RPC replies from clients that matched no callback (dropped).")
             .labels();
    auto& granted = counter(kDelegationsGranted, "Delegations granted by OPEN, by type.", {"type"});
    delegs_granted_[0] = &granted.labels({"read"});
    delegs_granted_[1] = &granted.labels({"write"});
    auto& recalled = counter(kDelegationsRecalled,
                             "Delegations recalled (CB_RECALL), by what conflicted.", {"reason"});
    for (size_t i = 0; i < delegs_recalled_.size(); ++i) {
      delegs_recalled_[i] = &recalled.labels(
          {nfs4::state::recall_reason_name(static_cast<nfs4::state::RecallReason>(i))});
    }
    delegs_revoked_ =
        &counter(kDelegationsRevoked, "Delegations revoked: recalled and not returned in a lease.")
             .labels();
    auto& budgets = counter(kBudgetRefusals,
                            "Requests refused because a budget was full: client records, lock "
                            "owners or locks of a client, the reply cache, the receive buffers.",
                            {"budget"});
    for (size_t i = 0; i < 4; ++i) {
      budget_refusals_[i] =
          &budgets.labels({nfs4::state::budget_name(static_cast<nfs4::state::Budget>(i))});
    }
    budget_refusals_[4] = &budgets.labels({"receive"});
    auto& active = registry_.gauge(kDelegationsActive, "Delegations held now, by type.", {"type"});
    registered_.push_back(kDelegationsActive);
    active.computed({"read"}, [&s = service_.state] {
      return static_cast<double>(s.delegation_count(nfs4::state::DelegType::kRead));
    });
    active.computed({"write"}, [&s = service_.state] {
      return static_cast<double>(s.delegation_count(nfs4::state::DelegType::kWrite));
    });

    registry_
        .gauge(kBuildInfo, "Always 1; the labels say which build is running.",
               {"version", "revision"})
        .labels({build::kVersion, build::kGitRevision})
        .set(1);
    registered_.push_back(kBuildInfo);
  } catch (...) {
    for (const auto& n : registered_)
      registry_.remove(n);
    throw;
  }
}

NfsMetrics::~NfsMetrics() {
  detach();
  for (const auto& n : registered_)
    registry_.remove(n);
}

void NfsMetrics::attach() {
  service_.set_observer(this);
  service_.state.set_observer(this);
  service_.callbacks.set_observer(this);
  service_.outbound.set_unmatched_hook([c = unmatched_replies_] { c->inc(); });
  transport_.set_observer(this);
  attached_ = true;
}

void NfsMetrics::detach() {
  if (!attached_) return;
  // Only undo our own registration: someone may have replaced us since.
  if (service_.observer() == this) service_.set_observer(nullptr);
  service_.state.set_observer(nullptr);
  service_.callbacks.set_observer(nullptr);
  service_.outbound.set_unmatched_hook(nullptr);
  transport_.set_observer(nullptr);
  attached_ = false;
}

Counter& NfsMetrics::op_counter(size_t op, size_t status) {
  std::atomic<Counter*>& slot = op_counts_.slots[op * status_slots() + status];
  Counter* c = slot.load(std::memory_order_acquire);
  if (!c) {
    // Racing first updates both get the same series from the family; either store wins.
    c = &operations_->labels({op_label(op), status_label(status)});
    slot.store(c, std::memory_order_release);
  }
  return *c;
}

Histogram& NfsMetrics::op_histogram(size_t op) {
  std::atomic<Histogram*>& slot = op_durations_.slots[op];
  Histogram* h = slot.load(std::memory_order_acquire);
  if (!h) {
    h = &durations_->labels({op_label(op)});
    slot.store(h, std::memory_order_release);
  }
  return *h;
}

Counter& NfsMetrics::status_counter(SeriesCache<Counter>& cache, CounterFamily& family,
                                    size_t status) {
  std::atomic<Counter*>& slot = cache.slots[status];
  Counter* c = slot.load(std::memory_order_acquire);
  if (!c) {
    c = &family.labels({status_label(status)});
    slot.store(c, std::memory_order_release);
  }
  return *c;
}

void NfsMetrics::op_done(uint32_t op, nfsstat4 status, std::chrono::nanoseconds elapsed) {
  const size_t oi = op_index(op);
  const size_t si = status_index(status);
  op_counter(oi, si).inc();
  // Zero means "not timed": the compound loop reports SEQUENCE and ops refused before they
  // ran without a duration, and observing 0 would drag the latency quantiles down.
  if (elapsed.count() > 0) {
    op_histogram(oi).observe(std::chrono::duration<double>(elapsed).count());
  }
  // SEQUENCE results are counted here rather than in sequence_error(): op_done sees every
  // one, including undecodable arguments and SEQUENCE out of position, which
  // sequence_error() is not told about.
  if (op == nfs4::OP_SEQUENCE) {
    sequences_->inc();
    if (status != nfs4::NFS4_OK)
      status_counter(sequence_error_counts_, *sequence_errors_, si).inc();
  }
}

void NfsMetrics::compound_done(nfsstat4 status) {
  status_counter(compound_counts_, *compounds_, status_index(status)).inc();
}

void NfsMetrics::replay(size_t bytes) {
  // A replayed request never reaches op_done (the cached reply goes out instead), but it was
  // a SEQUENCE the server processed.
  sequences_->inc();
  replay_hits_->inc();
  replay_bytes_->inc(bytes);
}

void NfsMetrics::bytes_read(uint64_t n) {
  read_bytes_->inc(n);
}
void NfsMetrics::bytes_written(uint64_t n, bool out_of_line) {
  written_bytes_->inc(n);
  if (out_of_line) written_bytes_out_of_line_->inc(n);
}

void NfsMetrics::session_created(const nfs4::state::Session&) {
  sessions_created_->inc();
}

void NfsMetrics::session_ended(const nfs4::state::Session& s, EndReason why) {
  const auto i = static_cast<size_t>(why);
  if (i < sessions_destroyed_.size()) sessions_destroyed_[i]->inc();
  bound_->remove({session_label(s.id)});
}

// Called with the session's lock held, so the count read here is the one just made.
void NfsMetrics::connection_bound(const nfs4::state::Session& s, ConnDirection dir) {
  const auto i = static_cast<size_t>(dir);
  if (i < binds_.size() && binds_[i]) binds_[i]->inc();
  if (!s.destroyed)
    bound_->labels({session_label(s.id)}).set(static_cast<double>(s.connections.size()));
}

void NfsMetrics::connection_unbound(const nfs4::state::Session& s, nfs4::state::UnbindReason why) {
  const auto i = static_cast<size_t>(why);
  if (i < unbinds_.size()) unbinds_[i]->inc();
  if (!s.destroyed)
    bound_->labels({session_label(s.id)}).set(static_cast<double>(s.connections.size()));
}

void NfsMetrics::binding_rejected(nfs4::state::RejectReason why) {
  const auto i = static_cast<size_t>(why);
  if (i < 2) rejected_[i]->inc();
}

void NfsMetrics::delegation_granted(nfs4::state::DelegType type) {
  delegs_granted_[type == nfs4::state::DelegType::kWrite ? 1 : 0]->inc();
}

void NfsMetrics::delegation_recalled(nfs4::state::RecallReason why) {
  const auto i = static_cast<size_t>(why);
  if (i < delegs_recalled_.size()) delegs_recalled_[i]->inc();
}

void NfsMetrics::delegation_revoked() {
  delegs_revoked_->inc();
}

// Callbacks are rare next to requests: their series are looked up by label each time.
void NfsMetrics::callback_sent(uint32_t op) {
  static const char* const kNames[] = {"CB_NULL",
                                       "",
                                       "",
                                       "CB_GETATTR",
                                       "CB_RECALL",
                                       "",
                                       "CB_NOTIFY",
                                       "",
                                       "CB_RECALL_ANY",
                                       "",
                                       "",
                                       "CB_SEQUENCE",
                                       "",
                                       "CB_NOTIFY_LOCK"};
  const char* name = op < std::size(kNames) && *kNames[op] ? kNames[op] : "CB_OTHER";
  callbacks_->labels({name}).inc();
}

void NfsMetrics::callback_failed(const std::string& reason) {
  callback_failures_->labels({reason}).inc();
}

void NfsMetrics::callback_retried() {
  callback_retries_->inc();
}

void NfsMetrics::callback_done(std::chrono::nanoseconds elapsed) {
  callback_duration_->observe(std::chrono::duration<double>(elapsed).count());
}

void NfsMetrics::budget_refused(nfs4::state::Budget b) {
  const auto i = static_cast<size_t>(b);
  if (i < 4) budget_refusals_[i]->inc();
}

void NfsMetrics::connection_shed(rpc::ShedReason why) {
  switch (why) {
    case rpc::ShedReason::kMaxConnections:
      rejected_[2]->inc();
      break;
    case rpc::ShedReason::kIdleTimeout:
      rejected_[3]->inc();
      break;
    case rpc::ShedReason::kReceiveBudget:
      budget_refusals_[4]->inc();
      break;
  }
}

void NfsMetrics::client_created(const nfs4::state::ClientRecord&) {
  clients_created_->inc();
}

void NfsMetrics::client_ended(const nfs4::state::ClientRecord&, EndReason why) {
  const auto i = static_cast<size_t>(why);
  if (i < clients_destroyed_.size()) clients_destroyed_[i]->inc();
}

std::unique_ptr<NfsMetrics> attach_nfs_metrics(Registry& registry, nfs4::Nfs4Service& service,
                                               rpc::TcpServer& transport) {
  auto m = std::make_unique<NfsMetrics>(registry, service, transport);
  m->attach();
  return m;
}

}  // namespace dfs::metrics
