// The grace period after a restart (RFC 8881 §8.4.2): the clients that held state get it back
// with OPEN CLAIM_PREVIOUS and LOCK reclaim, nobody gets new state meanwhile, and the grace
// period ends when every such client has said RECLAIM_COMPLETE, when its time is up, or when
// an operator ends it (REST). Client records are kept in the data directory across restarts.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "api_fixture.h"
#include "nfs4_test_util.h"

namespace dfs::testing {
namespace {

using json = nlohmann::json;

class GraceTest : public ApiServerTest {
 protected:
  void SetUp() override {
    grace_period_ = 60;
    ApiServerTest::SetUp();
  }
  void restart() {
    start(server::Config{});
    admin_token_ = login("admin", admin_pw_);
  }
  json grace() {
    auto r = get("/api/v1/grace", admin_token_);
    EXPECT_TRUE(r && r->status == 200);
    return r ? json::parse(r->body) : json{};
  }
  // A client that held state: an open (and, when asked, a write lock on bytes 0-99) of `name`.
  struct Holder {
    std::unique_ptr<NfsClient> c;
    Fh fh;
  };
  Holder hold(const std::string& owner, const std::string& name, bool lock) {
    Holder h{std::make_unique<NfsClient>("127.0.0.1", port()), {}};
    h.c->establish(owner);
    auto o = do_open(*h.c, h.c->lookup_path("/export"),
                     open_args(*h.c, name, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, true));
    EXPECT_EQ(o.status, NFS4_OK);
    h.fh = o.fh;
    if (lock) {
      auto l = do_lock(*h.c, o.fh, new_lock_args(*h.c, WRITE_LT, 0, 100, o.ok.stateid, "locker"));
      EXPECT_EQ(l.status, NFS4_OK);
    }
    return h;
  }
  // OPEN with CLAIM_PREVIOUS of the file `fh` (§9.11: the file is the current filehandle).
  static OpenOutcome reclaim_open(NfsClient& c, const Fh& fh) {
    OpenArgs oa = open_args(c, "", OPEN4_SHARE_ACCESS_BOTH);
    oa.claim.type = CLAIM_PREVIOUS;
    oa.claim.delegate_type = OPEN_DELEGATE_NONE;
    auto r = c.call(c.builder().op(OP_PUTFH, PutFhArgs{fh}).op(OP_OPEN, oa));
    OpenOutcome out;
    out.status = r.status;
    if (r.status == NFS4_OK) {
      r.next_status(OP_PUTFH);
      out.ok = r.next<OpenResult>(OP_OPEN).ok;
      out.fh = fh;
    }
    return out;
  }
  static nfsstat4 reclaim_complete(NfsClient& c) {
    return c.call(c.builder().op(OP_RECLAIM_COMPLETE, ReclaimCompleteArgs{false})).status;
  }
};

TEST_F(GraceTest, ClientsThatHeldStateReclaimItAndOthersWait) {
  auto a = hold("grace-a", "held", true);
  auto b = hold("grace-b", "other", false);
  EXPECT_EQ(grace()["in_grace"], false);  // nobody held state before this start
  restart();

  json g = grace();
  EXPECT_EQ(g["in_grace"], true);
  EXPECT_EQ(g["clients_expected"], 2);
  EXPECT_EQ(g["clients_reclaimed"], 0);
  EXPECT_GT(g["remaining_seconds"].get<int>(), 0);
  EXPECT_LE(g["remaining_seconds"].get<int>(), 60);

  // A newcomer (it held nothing) may not reclaim, and gets no new state in grace.
  NfsClient newcomer("127.0.0.1", port());
  newcomer.establish("grace-newcomer");
  Fh dir = newcomer.lookup_path("/export");
  EXPECT_EQ(do_open(newcomer, dir, open_args(newcomer, "held", OPEN4_SHARE_ACCESS_READ)).status,
            NFS4ERR_GRACE);
  EXPECT_EQ(newcomer.remove(dir, "other"), NFS4ERR_GRACE);
  EXPECT_EQ(reclaim_open(newcomer, a.fh).status, NFS4ERR_NO_GRACE);

  // The client that held the open and the lock gets both back, by the file handle it kept.
  NfsClient again("127.0.0.1", port());
  again.send_reclaim_complete = false;
  again.establish("grace-a");
  auto o = reclaim_open(again, a.fh);
  ASSERT_EQ(o.status, NFS4_OK);
  LockArgs la = new_lock_args(again, WRITE_LT, 0, 100, o.ok.stateid, "locker");
  la.reclaim = true;
  EXPECT_EQ(do_lock(again, a.fh, la).status, NFS4_OK);
  // A new lock is not a reclaim: it waits for the grace period like everyone's.
  EXPECT_EQ(do_lock(again, a.fh, new_lock_args(again, READ_LT, 200, 10, o.ok.stateid, "l2")).status,
            NFS4ERR_GRACE);
  ASSERT_EQ(reclaim_complete(again), NFS4_OK);
  EXPECT_EQ(reclaim_open(again, a.fh).status, NFS4ERR_NO_GRACE);  // done reclaiming
  g = grace();
  EXPECT_EQ(g["clients_reclaimed"], 1);
  EXPECT_EQ(g["in_grace"], true);  // grace-b has not come back

  // An operator may end it; then the newcomer gets its open, and the reclaimed lock holds.
  auto ended = post("/api/v1/grace/end", json::object(), admin_token_);
  ASSERT_TRUE(ended && ended->status == 200);
  EXPECT_EQ(json::parse(ended->body)["in_grace"], false);
  auto mine = do_open(newcomer, dir, open_args(newcomer, "held", OPEN4_SHARE_ACCESS_BOTH));
  ASSERT_EQ(mine.status, NFS4_OK);
  EXPECT_EQ(
      do_lock(newcomer, mine.fh, new_lock_args(newcomer, WRITE_LT, 50, 10, mine.ok.stateid, "n"))
          .status,
      NFS4ERR_DENIED);
  EXPECT_EQ(newcomer.remove(dir, "other"), NFS4_OK);
}

TEST_F(GraceTest, GraceEndsOnceEveryClientHasReclaimed) {
  auto a = hold("grace-only", "f", false);
  restart();
  EXPECT_EQ(grace()["in_grace"], true);
  NfsClient again("127.0.0.1", port());
  again.send_reclaim_complete = false;
  again.establish("grace-only");
  ASSERT_EQ(reclaim_open(again, a.fh).status, NFS4_OK);
  ASSERT_EQ(reclaim_complete(again), NFS4_OK);
  EXPECT_EQ(grace()["in_grace"], false);
  NfsClient other("127.0.0.1", port());
  other.establish("grace-other");
  EXPECT_EQ(
      do_open(other, other.lookup_path("/export"), open_args(other, "f", OPEN4_SHARE_ACCESS_READ))
          .status,
      NFS4_OK);
}

TEST_F(GraceTest, ADestroyedClientIsForgottenAndGraceRunsOut) {
  {
    // Recorded once it said RECLAIM_COMPLETE (from then on it may hold state), forgotten when
    // it destroys its client id.
    NfsClient gone("127.0.0.1", port());
    gone.establish("grace-gone");
    gone.destroy();
  }
  restart();
  EXPECT_EQ(grace()["in_grace"], false);
  EXPECT_EQ(grace()["clients_expected"], 0);

  auto kept = hold("grace-late", "h", false);
  grace_period_ = 1;
  restart();
  EXPECT_EQ(grace()["in_grace"], true);
  EXPECT_TRUE(
      eventually([&] { return grace()["in_grace"] == false; }, std::chrono::milliseconds(5000)));
  // Too late: the time is up, so the reclaim is refused and the client starts afresh.
  NfsClient late("127.0.0.1", port());
  late.send_reclaim_complete = false;
  late.establish("grace-late");
  EXPECT_EQ(reclaim_open(late, kept.fh).status, NFS4ERR_NO_GRACE);
}

// A client still reclaiming when the grace period runs out keeps it going, a second at a time
// (up to a lease), as the Linux server does: pynfs REBT5 reclaims 42 opens from near the end.
TEST_F(GraceTest, ReclaimsAtTheEndExtendTheGracePeriod) {
  auto a = hold("grace-slow", "slow", false);
  grace_period_ = 2;
  restart();
  NfsClient again("127.0.0.1", port());
  again.send_reclaim_complete = false;
  again.establish("grace-slow");
  // Reclaims for twice the grace period: each one near the end moves the end out.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  int reclaims = 0;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_EQ(reclaim_open(again, a.fh).status, NFS4_OK) << "reclaim " << reclaims;
    ++reclaims;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(reclaim_open(again, a.fh).status, NFS4_OK);
  EXPECT_EQ(grace()["in_grace"], true);  // past its 2 s
  // Once the client stops, the grace period ends within about a second.
  EXPECT_TRUE(
      eventually([&] { return grace()["in_grace"] == false; }, std::chrono::milliseconds(5000)));
  EXPECT_EQ(reclaim_open(again, a.fh).status, NFS4ERR_NO_GRACE);
}

// A client record that cannot be written (here the kernel's ENOTDIR, a file where the
// records' directory was; a full disk does the same) does not lock the client out:
// RECLAIM_COMPLETE still answers NFS4_OK and the server stays up, and the cost is that after
// a restart the server does not wait for that client. Once the disk works, records are
// written again.
TEST_F(GraceTest, AClientRecordThatCannotBeWrittenDoesNotLockTheClientOut) {
  const std::string dir = data_dir_ + "/clients";
  std::filesystem::remove_all(dir);
  std::ofstream(dir) << "not a directory";
  NfsClient c("127.0.0.1", port());
  c.send_reclaim_complete = false;
  c.establish("grace-record");
  EXPECT_EQ(reclaim_complete(c), NFS4_OK);
  auto o = c.open_or_throw(c.lookup_path("/export"), "f", OPEN4_SHARE_ACCESS_BOTH);
  EXPECT_EQ(c.close(o), NFS4_OK);

  std::filesystem::remove(dir);
  std::filesystem::create_directory(dir);
  NfsClient d("127.0.0.1", port());
  d.establish("grace-record-2");
  restart();
  EXPECT_EQ(grace()["clients_expected"], 1);  // d, not c
}

}  // namespace
}  // namespace dfs::testing
