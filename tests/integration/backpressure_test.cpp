// A client that sends many requests and does not read its replies: the server stops reading
// from it once a bounded amount of reply data waits (memory stays bounded whatever the peer
// does), keeps serving other clients, and delivers every reply once the client reads.

#include <chrono>
#include <thread>

#include "server_fixture.h"

namespace dfs::testing {
namespace {

class BackpressureTest : public ServerTest {
 protected:
  void SetUp() override {
    server::Config config;
    config.nfs.v4_max_session_slots = 256;
    start(config);
  }
  std::shared_ptr<rpc::Connection> server_side_of_busiest() {
    std::shared_ptr<rpc::Connection> best;
    for (auto& c : daemon().transport().connections()) {
      if (!best || c->queued_bytes() > best->queued_bytes()) best = c;
    }
    return best;
  }
};

TEST_F(BackpressureTest, NonReadingClientIsPausedThenServedInFull) {
  constexpr uint32_t kReads = 200;
  constexpr uint32_t kSize = 1u << 20;
  auto c = std::make_unique<NfsClient>("127.0.0.1", port());
  c->establish("", kReads);
  ASSERT_GE(c->fore.maxrequests, kReads);
  Fh dir = c->lookup_path("/export");
  auto f = c->open_or_throw(dir, "big", OPEN4_SHARE_ACCESS_BOTH);
  std::vector<uint8_t> data(kSize);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<uint8_t>(i * 7);
  // In halves: a 1 MiB WRITE plus headers exceeds the session's 1 MiB request size.
  std::span<const uint8_t> all(data);
  ASSERT_EQ(c->write(f, 0, all.first(kSize / 2)), NFS4_OK);
  ASSERT_EQ(c->write(f, kSize / 2, all.subspan(kSize / 2)), NFS4_OK);

  // 200 READs of 1 MiB in flight, one per slot, and nothing read back yet.
  std::vector<uint32_t> xids;
  for (uint32_t slot = 0; slot < kReads; ++slot) {
    CompoundBuilder b(1);
    b.op(OP_SEQUENCE, c->next_sequence(slot));
    b.op(OP_PUTFH, PutFhArgs{f.fh});
    b.op(OP_READ, ReadArgs{f.stateid, 0, kSize});
    xids.push_back(c->send(b));
    ASSERT_NE(xids.back(), 0u);
  }
  // The server pauses the connection instead of queueing all ~200 MiB of replies.
  size_t max_queued = 0;
  bool paused = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!paused && std::chrono::steady_clock::now() < deadline) {
    if (auto conn = server_side_of_busiest()) {
      max_queued = std::max(max_queued, conn->queued_bytes());
      paused = conn->read_paused();
    }
    if (!paused) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(paused) << "the server never paused a client that does not read";
  if (auto conn = server_side_of_busiest()) max_queued = std::max(max_queued, conn->queued_bytes());
  EXPECT_LE(max_queued, rpc::Connection::kMaxQueuedBytes + 2 * kSize);

  // Others are served meanwhile.
  auto other = client();
  EXPECT_NO_THROW(other->lookup_path("/export"));

  // Every reply arrives, complete and correct, once the client reads.
  for (uint32_t xid : xids) {
    auto r = c->wait(xid);
    ASSERT_EQ(r.status, NFS4_OK);
    r.next<SequenceResult>(OP_SEQUENCE);
    r.next_status(OP_PUTFH);
    auto rr = r.next<ReadResult>(OP_READ);
    ASSERT_EQ(rr.status, NFS4_OK);
    const auto& got = rr.ok.pieces[0].bytes;
    ASSERT_GT(got.size(), kSize - 4096);  // the session's reply size may trim the count
    EXPECT_TRUE(std::equal(got.begin(), got.end(), data.begin()));
  }
  auto conn = server_side_of_busiest();
  ASSERT_TRUE(conn);
  EXPECT_FALSE(conn->read_paused());
}

}  // namespace
}  // namespace dfs::testing
