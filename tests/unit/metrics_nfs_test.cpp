// NfsMetrics: the series move as the observers are called, the per-op arrays give every op
// and status its own series, and concurrent updates add up. Also status_name() against the
// nfsstat4 enum as constants.h declares it.

#include "metrics/nfs_metrics.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "metrics/exposition.h"
#include "metrics_format_check.h"
#include "nfs4/constants.h"
#include "nfs4/state/session.h"

namespace dfs::metrics {
namespace {

using nfs4::nfsstat4;
using testing::check_exposition;
using testing::sample_value;

struct NullHandler : rpc::RecordHandler {
  void on_record(const std::shared_ptr<rpc::Connection>&, std::span<const uint8_t>,
                 std::shared_ptr<xdr::OutOfLineBytes>) override {}
};

class NfsMetricsTest : public ::testing::Test {
 protected:
  NfsMetricsTest() : service_(ns_, settings_), tcp_(rpc::TcpServerOptions{}, handler_) {}

  double value(const std::string& series) { return sample_value(render(registry_), series); }

  vfs::Namespace ns_;
  nfs4::SettingsHolder settings_;
  nfs4::Nfs4Service service_;
  NullHandler handler_;
  rpc::TcpServer tcp_;  // never started: no connections
  Registry registry_;
};

// Every "NFS4ERR_X = N," line of the enum in constants.h, read from the source so a status
// added there without a name here fails this test.
std::vector<std::pair<std::string, uint32_t>> statuses_in_header() {
  std::string path = __FILE__;
  path = path.substr(0, path.rfind("/tests/")) + "/src/nfs4/constants.h";
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::vector<std::pair<std::string, uint32_t>> out;
  std::string line;
  bool inside = false;
  const std::regex entry(R"(^\s*(NFS4[A-Z0-9_]*)\s*=\s*(\d+),)");
  while (std::getline(in, line)) {
    if (line.starts_with("enum nfsstat4")) inside = true;
    if (inside && line.starts_with("};")) break;
    std::smatch m;
    if (inside && std::regex_search(line, m, entry)) {
      out.emplace_back(m[1], static_cast<uint32_t>(std::stoul(m[2])));
    }
  }
  return out;
}

TEST(StatusNames, EveryEnumValueHasItsOwnName) {
  auto all = statuses_in_header();
  EXPECT_GT(all.size(), 100u);
  std::set<size_t> indexes;
  for (const auto& [name, value] : all) {
    EXPECT_EQ(nfs4::status_name(value), name) << value;
    indexes.insert(NfsMetrics::status_index(value));
  }
  // ...and a metrics index of its own, distinct from the shared "UNKNOWN" one.
  EXPECT_EQ(indexes.size(), all.size());
  EXPECT_FALSE(indexes.count(NfsMetrics::status_index(3)));
  EXPECT_EQ(NfsMetrics::status_slots(), all.size() + 1);
  EXPECT_STREQ(nfs4::status_name(nfs4::NFS4_OK), "NFS4_OK");
  EXPECT_STREQ(nfs4::status_name(nfs4::NFS4ERR_NOENT), "NFS4ERR_NOENT");
  EXPECT_STREQ(nfs4::status_name(3), "UNKNOWN");
  EXPECT_STREQ(nfs4::status_name(10073), "UNKNOWN");
  EXPECT_STREQ(nfs4::status_name(99999), "UNKNOWN");
}

TEST(StatusNames, IndexesAreCompactAndLabelled) {
  EXPECT_EQ(NfsMetrics::status_index(nfs4::NFS4_OK), 0u);
  for (uint32_t v : {3u, 71u, 10000u, 10073u, 10088u, 0xffffffffu}) {
    EXPECT_EQ(NfsMetrics::status_index(v), NfsMetrics::status_slots() - 1) << v;
  }
  EXPECT_STREQ(NfsMetrics::status_label(NfsMetrics::status_slots() - 1), "UNKNOWN");
  EXPECT_STREQ(NfsMetrics::status_label(NfsMetrics::status_index(nfs4::NFS4ERR_DELAY)),
               "NFS4ERR_DELAY");
}

TEST(StatusNames, OpIndexes) {
  EXPECT_EQ(NfsMetrics::op_index(nfs4::OP_READ), size_t{nfs4::OP_READ});
  EXPECT_EQ(NfsMetrics::op_index(nfs4::OP_REMOVEXATTR), size_t{nfs4::OP_REMOVEXATTR});
  for (uint32_t op : {0u, 1u, 2u, 76u, 10044u, 0xffffffffu}) {
    EXPECT_EQ(NfsMetrics::op_index(op), NfsMetrics::kIllegalOp) << op;
  }
  EXPECT_STREQ(NfsMetrics::op_label(nfs4::OP_READ), "READ");
  EXPECT_STREQ(NfsMetrics::op_label(nfs4::OP_SEQUENCE), "SEQUENCE");
  EXPECT_STREQ(NfsMetrics::op_label(NfsMetrics::kIllegalOp), "ILLEGAL");
}

TEST_F(NfsMetricsTest, AttachSetsAndDestructionClearsTheObservers) {
  {
    auto m = attach_nfs_metrics(registry_, service_, tcp_);
    EXPECT_EQ(service_.observer(), m.get());
    EXPECT_NE(render(registry_).find("# TYPE dittofs_nfs_read_bytes_total counter\n"),
              std::string::npos);
  }
  EXPECT_EQ(service_.observer(), nullptr);
  std::string left;
  registry_.visit([&](const Family& f) { left += f.name() + " "; });
  EXPECT_EQ(left, "");
  // The names are free again.
  auto again = attach_nfs_metrics(registry_, service_, tcp_);
  EXPECT_THROW(std::make_unique<NfsMetrics>(registry_, service_, tcp_), std::invalid_argument);
  EXPECT_EQ(service_.observer(), again.get());  // the failed one did not disturb it
}

TEST_F(NfsMetricsTest, FreshScrapeIsValidAndHasTheFixedSeries) {
  auto m = attach_nfs_metrics(registry_, service_, tcp_);
  const std::string text = render(registry_);
  EXPECT_EQ(check_exposition(text), "") << text;
  EXPECT_EQ(value("dittofs_nfs_read_bytes_total"), 0);
  EXPECT_EQ(value("dittofs_nfs_sessions_created_total"), 0);
  EXPECT_EQ(value("dittofs_nfs_sessions_destroyed_total{reason=\"expired\"}"), 0);
  EXPECT_EQ(value("dittofs_nfs_clients_destroyed_total{reason=\"replaced\"}"), 0);
  EXPECT_EQ(value("dittofs_nfs_connections_active"), 0);
  EXPECT_EQ(value("dittofs_nfs_sessions_active"), 0);
  EXPECT_EQ(value("dittofs_nfs_clients_active"), 0);
  EXPECT_EQ(value("dittofs_nfs_slots_in_use"), 0);
  EXPECT_NE(text.find("dittofs_build_info{version=\""), std::string::npos);
  // Per-op series only appear once used.
  EXPECT_EQ(text.find("dittofs_nfs_operations_total{"), std::string::npos);
}

TEST_F(NfsMetricsTest, ObserverCallsMoveTheCounters) {
  auto m = attach_nfs_metrics(registry_, service_, tcp_);
  nfs4::OpObserver& o = *m;
  using std::chrono::microseconds;
  o.op_done(nfs4::OP_SEQUENCE, nfs4::NFS4_OK, std::chrono::nanoseconds(0));
  o.op_done(nfs4::OP_PUTFH, nfs4::NFS4_OK, microseconds(3));
  o.op_done(nfs4::OP_READ, nfs4::NFS4_OK, microseconds(40));
  o.op_done(nfs4::OP_READ, nfs4::NFS4_OK, microseconds(2000));
  o.op_done(nfs4::OP_READ, nfs4::NFS4ERR_BAD_STATEID, microseconds(20));
  o.op_done(nfs4::OP_SEQUENCE, nfs4::NFS4ERR_BADSESSION, std::chrono::nanoseconds(0));
  o.op_done(nfs4::OP_SEQUENCE, nfs4::NFS4ERR_BADSESSION, std::chrono::nanoseconds(0));
  o.op_done(12345, static_cast<nfsstat4>(4242), microseconds(1));
  o.compound_done(nfs4::NFS4_OK);
  o.compound_done(nfs4::NFS4ERR_BAD_STATEID);
  o.sequence_error(nfs4::NFS4ERR_BADSESSION);  // counted from op_done, not twice
  o.replay(312);
  o.replay(100);
  o.bytes_read(4096);
  o.bytes_read(10);
  o.bytes_written(8192, false);
  o.bytes_written(1 << 20, true);

  const std::string text = render(registry_);
  EXPECT_EQ(check_exposition(text), "") << text;
  EXPECT_EQ(value("dittofs_nfs_operations_total{op=\"READ\",status=\"NFS4_OK\"}"), 2);
  EXPECT_EQ(value("dittofs_nfs_operations_total{op=\"READ\",status=\"NFS4ERR_BAD_STATEID\"}"), 1);
  EXPECT_EQ(value("dittofs_nfs_operations_total{op=\"PUTFH\",status=\"NFS4_OK\"}"), 1);
  EXPECT_EQ(value("dittofs_nfs_operations_total{op=\"SEQUENCE\",status=\"NFS4_OK\"}"), 1);
  EXPECT_EQ(value("dittofs_nfs_operations_total{op=\"ILLEGAL\",status=\"UNKNOWN\"}"), 1);
  EXPECT_EQ(value("dittofs_nfs_operations_total{op=\"WRITE\",status=\"NFS4_OK\"}"), -1);

  EXPECT_EQ(value("dittofs_nfs_operation_duration_seconds_count{op=\"READ\"}"), 3);
  EXPECT_EQ(value("dittofs_nfs_operation_duration_seconds_bucket{op=\"READ\",le=\"2.5e-05\"}"), 1);
  EXPECT_EQ(value("dittofs_nfs_operation_duration_seconds_bucket{op=\"READ\",le=\"5e-05\"}"), 2);
  EXPECT_EQ(value("dittofs_nfs_operation_duration_seconds_bucket{op=\"READ\",le=\"+Inf\"}"), 3);
  EXPECT_DOUBLE_EQ(value("dittofs_nfs_operation_duration_seconds_sum{op=\"READ\"}"), 0.00206);
  // SEQUENCE is reported untimed: no latency series for it.
  EXPECT_EQ(value("dittofs_nfs_operation_duration_seconds_count{op=\"SEQUENCE\"}"), -1);

  EXPECT_EQ(value("dittofs_nfs_compounds_total{status=\"NFS4_OK\"}"), 1);
  EXPECT_EQ(value("dittofs_nfs_compounds_total{status=\"NFS4ERR_BAD_STATEID\"}"), 1);
  EXPECT_EQ(value("dittofs_nfs_sequence_total"), 5);  // 3 executed + 2 replayed
  EXPECT_EQ(value("dittofs_nfs_sequence_errors_total{error=\"NFS4ERR_BADSESSION\"}"), 2);
  EXPECT_EQ(value("dittofs_nfs_replay_cache_hits_total"), 2);
  EXPECT_EQ(value("dittofs_nfs_replay_cache_bytes_total"), 412);
  EXPECT_EQ(value("dittofs_nfs_read_bytes_total"), 4106);
  EXPECT_EQ(value("dittofs_nfs_written_bytes_total"), 8192 + (1 << 20));
  EXPECT_EQ(value("dittofs_nfs_written_bytes_out_of_line_total"), 1 << 20);
}

TEST_F(NfsMetricsTest, StateObserverCountsSessionsAndClientsByReason) {
  auto m = attach_nfs_metrics(registry_, service_, tcp_);
  nfs4::state::StateObserver& o = *m;
  auto client = std::make_shared<nfs4::state::ClientRecord>();
  nfs4::state::Session session(nfs4::SessionId{}, client, nfs4::ChannelAttrs{},
                               nfs4::ChannelAttrs{}, 0, 0, {});
  using nfs4::state::EndReason;
  o.client_created(*client);
  o.session_created(session);
  o.session_created(session);
  o.session_created(session);
  o.session_ended(session, EndReason::kDestroyed);
  o.session_ended(session, EndReason::kExpired);
  o.session_ended(session, EndReason::kExpired);
  o.client_ended(*client, EndReason::kEvicted);
  EXPECT_EQ(value("dittofs_nfs_sessions_created_total"), 3);
  EXPECT_EQ(value("dittofs_nfs_sessions_destroyed_total{reason=\"destroyed\"}"), 1);
  EXPECT_EQ(value("dittofs_nfs_sessions_destroyed_total{reason=\"expired\"}"), 2);
  EXPECT_EQ(value("dittofs_nfs_sessions_destroyed_total{reason=\"evicted\"}"), 0);
  EXPECT_EQ(value("dittofs_nfs_sessions_destroyed_total{reason=\"replaced\"}"), 0);
  EXPECT_EQ(value("dittofs_nfs_clients_created_total"), 1);
  EXPECT_EQ(value("dittofs_nfs_clients_destroyed_total{reason=\"evicted\"}"), 1);
}

TEST_F(NfsMetricsTest, EveryOpAndStatusGetsItsOwnSeries) {
  auto m = attach_nfs_metrics(registry_, service_, tcp_);
  auto statuses = statuses_in_header();
  for (uint32_t op = nfs4::OP_ACCESS; op <= nfs4::kLastOp42; ++op) {
    for (const auto& [name, status] : statuses) {
      m->op_done(op, static_cast<nfsstat4>(status), std::chrono::microseconds(op));
    }
  }
  const std::string text = render(registry_);
  EXPECT_EQ(check_exposition(text), "");  // among others: no duplicate series
  for (uint32_t op : {nfs4::OP_ACCESS, nfs4::OP_READ, nfs4::OP_REMOVEXATTR}) {
    for (const auto& [name, status] : statuses) {
      EXPECT_EQ(sample_value(text, std::string("dittofs_nfs_operations_total{op=\"") +
                                       nfs4::opname(op) + "\",status=\"" + name + "\"}"),
                1)
          << nfs4::opname(op) << " " << name;
    }
  }
}

TEST_F(NfsMetricsTest, ConcurrentObserversSumCorrectly) {
  auto m = attach_nfs_metrics(registry_, service_, tcp_);
  constexpr int kThreads = 4;
  constexpr int kIters = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&m, t] {
      for (int i = 0; i < kIters; ++i) {
        // All threads race to create the same lazily created series first.
        m->op_done(nfs4::OP_WRITE, nfs4::NFS4_OK, std::chrono::microseconds(100));
        m->op_done(nfs4::OP_READ, (i % 2) ? nfs4::NFS4_OK : nfs4::NFS4ERR_DELAY,
                   std::chrono::microseconds(t + 1));
        m->op_done(nfs4::OP_SEQUENCE, nfs4::NFS4_OK, std::chrono::nanoseconds(0));
        m->compound_done(nfs4::NFS4_OK);
        m->bytes_written(3, false);
      }
    });
  }
  for (auto& th : threads)
    th.join();
  const double total = double{kThreads} * kIters;
  EXPECT_EQ(value("dittofs_nfs_operations_total{op=\"WRITE\",status=\"NFS4_OK\"}"), total);
  EXPECT_EQ(value("dittofs_nfs_operations_total{op=\"READ\",status=\"NFS4_OK\"}"), total / 2);
  EXPECT_EQ(value("dittofs_nfs_operations_total{op=\"READ\",status=\"NFS4ERR_DELAY\"}"), total / 2);
  EXPECT_EQ(value("dittofs_nfs_operation_duration_seconds_count{op=\"WRITE\"}"), total);
  EXPECT_EQ(value("dittofs_nfs_operation_duration_seconds_count{op=\"READ\"}"), total);
  EXPECT_EQ(value("dittofs_nfs_sequence_total"), total);
  EXPECT_EQ(value("dittofs_nfs_compounds_total{status=\"NFS4_OK\"}"), total);
  EXPECT_EQ(value("dittofs_nfs_written_bytes_total"), 3 * total);
}

}  // namespace
}  // namespace dfs::metrics
