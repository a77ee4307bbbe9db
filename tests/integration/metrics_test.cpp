// Metrics end to end: a real dfs with NfsMetrics attached and GET /metrics served on an
// ephemeral port; NFS traffic from the project's client moves the counters seen over HTTP,
// and promtool accepts the scrape.

#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <fstream>
#include <numeric>

#include "../unit/metrics_format_check.h"
#include "metrics/exposition.h"
#include "metrics/metrics_server.h"
#include "metrics/nfs_metrics.h"
#include "server_fixture.h"

namespace dfs::testing {
namespace {

using metrics::testing::check_exposition;

class MetricsTest : public ServerTest {
 protected:
  // The daemon's own wiring: its NfsMetrics observers and its /metrics listener.
  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_NE(daemon().metrics_port(), 0);
  }

  struct Scrape {
    int status = 0;
    std::string content_type;
    std::string body;
  };
  Scrape get(const std::string& path) {
    httplib::Client cli("127.0.0.1", daemon().metrics_port());
    cli.set_connection_timeout(5);
    cli.set_read_timeout(5);
    auto res = cli.Get(path.c_str());
    Scrape s;
    if (!res) {
      ADD_FAILURE() << "GET " << path << ": " << httplib::to_string(res.error());
      return s;
    }
    s.status = res->status;
    s.content_type = res->get_header_value("Content-Type");
    s.body = res->body;
    return s;
  }
  std::string scrape() {
    auto s = get("/metrics");
    EXPECT_EQ(s.status, 200);
    return s.body;
  }
  static double value(const std::string& text, const std::string& series) {
    return metrics::testing::sample_value(text, series);
  }

  // OPEN, WRITE, READ back and CLOSE on a fresh client; returns the client (session still
  // up). `bytes` are written in 32 KiB WRITEs and read back in one READ each.
  std::unique_ptr<NfsClient> traffic(size_t bytes, const std::string& name) {
    auto c = client();
    Fh dir = c->lookup_path("/export");
    auto f = c->open_or_throw(dir, name, OPEN4_SHARE_ACCESS_BOTH);
    std::vector<uint8_t> data(bytes);
    std::iota(data.begin(), data.end(), uint8_t{7});
    constexpr size_t kChunk = 32 << 10;
    for (size_t off = 0; off < bytes; off += kChunk) {
      const size_t n = std::min(kChunk, bytes - off);
      EXPECT_EQ(c->write(f, off, std::span<const uint8_t>(data).subspan(off, n)), NFS4_OK);
    }
    for (size_t off = 0; off < bytes; off += kChunk) {
      std::vector<uint8_t> got;
      EXPECT_EQ(c->read(f, off, kChunk, got), NFS4_OK);
      EXPECT_EQ(got.size(), std::min(kChunk, bytes - off));
    }
    EXPECT_EQ(c->close(f), NFS4_OK);
    return c;
  }
};

TEST_F(MetricsTest, ServesTextFormatOnlyAtMetrics) {
  auto s = get("/metrics");
  EXPECT_EQ(s.status, 200);
  EXPECT_TRUE(s.content_type.starts_with("text/plain; version=0.0.4")) << s.content_type;
  EXPECT_EQ(check_exposition(s.body), "") << s.body;
  EXPECT_NE(s.body.find("# TYPE dittofs_build_info gauge\n"), std::string::npos);
  EXPECT_EQ(get("/").status, 404);
  EXPECT_EQ(get("/metricsx").status, 404);
}

TEST_F(MetricsTest, LargeWritesAreReceivedOutOfLineAndReadBackIntact) {
  // WRITE data of 64 KiB or more (whole XDR words) goes from the socket straight into block
  // buffers; shorter or odd-sized data comes with the rest of the record. Either way the file
  // holds what was sent, and the out-of-line counter says which way each WRITE went.
  auto c = std::make_unique<NfsClient>("127.0.0.1", port());
  c->requested_fore = {0, 4u << 20, 4u << 20, 64u << 10, 64, 16, {}};
  c->establish();
  Fh dir = c->lookup_path("/export");
  auto f = c->open_or_throw(dir, "ool-file", OPEN4_SHARE_ACCESS_BOTH);
  std::vector<uint8_t> file(3u << 20);
  uint32_t x = 1;
  for (auto& b : file) {
    x = x * 1103515245u + 12345u;
    b = static_cast<uint8_t>(x >> 16);
  }
  struct Piece {
    uint64_t offset;
    size_t length;
    bool out_of_line;
  };
  // A record is placed when its head arrives before the rest of it. That is certain for the
  // first (larger than the 256 KiB first read) and for any record after a placed one (the
  // connection then reads record heads on their own); a 64 KiB record after unplaced ones may
  // arrive whole and be copied as before, so the order matters here.
  const Piece pieces[] = {
      {0, 1u << 20, true},                  // whole chunks
      {(2u << 20) + 300000, 65536, true},   // the threshold
      {(1u << 20) + 1000, 300000, true},    // starts and ends inside chunks
      {2u << 20, 100002, false},            // not a multiple of 4
      {(2u << 20) + 200000, 32768, false},  // short
  };
  size_t total = 0, out_of_line = 0;
  for (const auto& p : pieces) {
    auto data = std::span<const uint8_t>(file).subspan(p.offset, p.length);
    ASSERT_EQ(c->write(f, p.offset, data), NFS4_OK) << p.offset;
    total += p.length;
    if (p.out_of_line) out_of_line += p.length;
  }
  for (const auto& p : pieces) {
    std::vector<uint8_t> got;
    ASSERT_EQ(c->read(f, p.offset, static_cast<uint32_t>(p.length), got), NFS4_OK);
    EXPECT_TRUE(std::equal(got.begin(), got.end(), file.begin() + static_cast<long>(p.offset)) &&
                got.size() == p.length)
        << "piece at " << p.offset;
  }
  const std::string text = scrape();
  EXPECT_EQ(value(text, "dittofs_nfs_written_bytes_total"), total);
  EXPECT_EQ(value(text, "dittofs_nfs_written_bytes_out_of_line_total"), out_of_line);
  EXPECT_EQ(c->close(f), NFS4_OK);
}

TEST_F(MetricsTest, NfsTrafficMovesTheCounters) {
  const std::string before = scrape();
  EXPECT_EQ(value(before, "dittofs_nfs_read_bytes_total"), 0);
  EXPECT_EQ(value(before, "dittofs_nfs_sessions_created_total"), 0);
  EXPECT_EQ(value(before, "dittofs_nfs_clients_active"), 0);

  constexpr size_t kBytes = 100000;  // 4 WRITEs and 4 READs
  auto c = traffic(kBytes, "metrics-file");
  // An error, so a non-OK status series exists: LOOKUP of a missing name.
  Fh dir = c->lookup_path("/export");
  auto r = c->call(c->builder().op(OP_PUTFH, PutFhArgs{dir}).op(OP_LOOKUP, ComponentArgs{"nope"}));
  EXPECT_EQ(r.status, NFS4ERR_NOENT);
  // A retried request answered from the reply cache.
  auto seq = c->next_sequence(1, /*cachethis=*/true);
  EXPECT_EQ(c->call_with(seq, c->builder().op(OP_PUTROOTFH)).status, NFS4_OK);
  EXPECT_EQ(c->call_with(seq, c->builder().op(OP_PUTROOTFH)).status, NFS4_OK);
  // A SEQUENCE error: a slot beyond the table.
  auto bad = c->next_sequence(0);
  bad.slotid = 999;
  EXPECT_EQ(c->call_with(bad, c->builder().op(OP_PUTROOTFH)).status, NFS4ERR_BADSLOT);

  const std::string text = scrape();
  EXPECT_EQ(check_exposition(text), "") << text;
  EXPECT_EQ(value(text, "dittofs_nfs_operations_total{op=\"WRITE\",status=\"NFS4_OK\"}"), 4);
  EXPECT_EQ(value(text, "dittofs_nfs_operations_total{op=\"READ\",status=\"NFS4_OK\"}"), 4);
  EXPECT_EQ(value(text, "dittofs_nfs_operations_total{op=\"OPEN\",status=\"NFS4_OK\"}"), 1);
  EXPECT_EQ(value(text, "dittofs_nfs_operations_total{op=\"EXCHANGE_ID\",status=\"NFS4_OK\"}"), 1);
  EXPECT_EQ(value(text, "dittofs_nfs_operations_total{op=\"LOOKUP\",status=\"NFS4ERR_NOENT\"}"), 1);
  EXPECT_EQ(value(text, "dittofs_nfs_operation_duration_seconds_count{op=\"READ\"}"), 4);
  EXPECT_EQ(value(text, "dittofs_nfs_operation_duration_seconds_count{op=\"WRITE\"}"), 4);
  EXPECT_GT(value(text, "dittofs_nfs_operation_duration_seconds_sum{op=\"WRITE\"}"), 0);
  EXPECT_EQ(value(text, "dittofs_nfs_read_bytes_total"), kBytes);
  EXPECT_EQ(value(text, "dittofs_nfs_written_bytes_total"), kBytes);
  EXPECT_EQ(value(text, "dittofs_nfs_sessions_created_total"), 1);
  EXPECT_EQ(value(text, "dittofs_nfs_clients_created_total"), 1);
  EXPECT_EQ(value(text, "dittofs_nfs_sessions_active"), 1);
  EXPECT_EQ(value(text, "dittofs_nfs_clients_active"), 1);
  EXPECT_EQ(value(text, "dittofs_nfs_connections_active"), 1);
  EXPECT_EQ(value(text, "dittofs_nfs_slots_in_use"), 0);  // nothing executing during a scrape
  EXPECT_EQ(value(text, "dittofs_nfs_replay_cache_hits_total"), 1);
  EXPECT_GT(value(text, "dittofs_nfs_replay_cache_bytes_total"), 0);
  EXPECT_EQ(value(text, "dittofs_nfs_sequence_errors_total{error=\"NFS4ERR_BADSLOT\"}"), 1);
  EXPECT_GT(value(text, "dittofs_nfs_compounds_total{status=\"NFS4_OK\"}"), 10);
  EXPECT_EQ(value(text, "dittofs_nfs_compounds_total{status=\"NFS4ERR_NOENT\"}"), 1);
  // Every SEQUENCE executed (op_done) plus the replay.
  EXPECT_EQ(value(text, "dittofs_nfs_sequence_total"),
            value(text, "dittofs_nfs_operations_total{op=\"SEQUENCE\",status=\"NFS4_OK\"}") +
                value(text,
                      "dittofs_nfs_operations_total{op=\"SEQUENCE\","
                      "status=\"NFS4ERR_BADSLOT\"}") +
                1);

  c->destroy();
  const std::string after = scrape();
  EXPECT_EQ(value(after, "dittofs_nfs_sessions_destroyed_total{reason=\"destroyed\"}"), 1);
  EXPECT_EQ(value(after, "dittofs_nfs_clients_destroyed_total{reason=\"destroyed\"}"), 1);
  EXPECT_EQ(value(after, "dittofs_nfs_sessions_active"), 0);
  EXPECT_EQ(value(after, "dittofs_nfs_clients_active"), 0);
}

TEST_F(MetricsTest, BlockPoolGaugesFollowFileData) {
  start(memory_stores());  // the pool backs the memory block store
  // The pool is shared by the whole process (other tests' stores too), so compare the memory
  // in use (mapped minus free) before and after writing 1 MiB of full chunks.
  auto in_use = [&] {
    std::string t = scrape();
    return value(t, "dittofs_block_pool_mapped_bytes") - value(t, "dittofs_block_pool_free_bytes");
  };
  const double before = in_use();
  auto c = client();
  Fh dir = c->lookup_path("/export");
  auto f = c->open_or_throw(dir, "pool-file", OPEN4_SHARE_ACCESS_BOTH);
  // Four whole 256 KiB chunks, one WRITE each (the test session's requests stay small).
  std::vector<uint8_t> chunk(256 * 1024, 0x33);
  for (uint64_t i = 0; i < 4; ++i)
    ASSERT_EQ(c->write(f, i * chunk.size(), chunk), NFS4_OK);
  EXPECT_GE(in_use() - before, 4.0 * static_cast<double>(chunk.size()));
  EXPECT_EQ(c->close(f), NFS4_OK);
  auto rm =
      c->call(c->builder().op(OP_PUTFH, PutFhArgs{dir}).op(OP_REMOVE, ComponentArgs{"pool-file"}));
  ASSERT_EQ(rm.status, NFS4_OK);
  EXPECT_LE(in_use() - before, 0.0);  // the chunks went back to the pool
}

TEST_F(MetricsTest, ScrapesWhileClientsWorkStayWellFormed) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < 2; ++t) {
    workers.emplace_back([this, t, &stop] {
      for (int i = 0; !stop; ++i) {
        traffic(40000, "busy-" + std::to_string(t) + "-" + std::to_string(i))->destroy();
      }
    });
  }
  for (int i = 0; i < 20; ++i) {
    const std::string text = scrape();
    ASSERT_EQ(check_exposition(text), "") << text;
  }
  stop = true;
  for (auto& w : workers)
    w.join();
  EXPECT_GT(value(scrape(), "dittofs_nfs_sessions_created_total"), 0);
}

// The scrape after real traffic, checked by Prometheus' own tool (format and lint).
TEST_F(MetricsTest, PromtoolAcceptsTheScrape) {
  auto c = traffic(70000, "promtool-file");
  Fh dir = c->lookup_path("/export");
  c->call(c->builder().op(OP_PUTFH, PutFhArgs{dir}).op(OP_LOOKUP, ComponentArgs{"missing"}));
  auto seq = c->next_sequence(1, true);
  c->call_with(seq, c->builder().op(OP_PUTROOTFH));
  c->call_with(seq, c->builder().op(OP_PUTROOTFH));
  auto other = traffic(1000, "second-client");
  other->destroy();

  const std::string text = scrape();
  const std::string file = ::testing::TempDir() + "dfs-metrics-scrape.prom";
  std::ofstream(file) << text;
  std::string script = __FILE__;
  script = script.substr(0, script.rfind("/tests/")) + "/tests/tools/promtool_check.sh";
  const std::string out_file = file + ".out";
  const int rc = std::system((script + " " + file + " > " + out_file + " 2>&1").c_str());
  std::ifstream in(out_file);
  const std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::cout << out;
  EXPECT_EQ(rc, 0) << out << "\n--- scrape ---\n" << text;
  EXPECT_NE(out.find("promtool check metrics: OK"), std::string::npos) << out;
}

}  // namespace
}  // namespace dfs::testing
