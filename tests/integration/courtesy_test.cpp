// Courtesy clients (RFC 8881 §8.4.3): a client whose lease ran out while it held opens and
// locks keeps them until another client needs them. Back before that, it goes on with its
// session and state as if nothing happened; a conflicting request from another client gets
// NFS4ERR_DELAY while the server expires the courtesy client, and succeeds when retried.
// Leases are 2 s here.

#include "nfs4_test_util.h"

namespace dfs::testing {
namespace {

using namespace std::chrono_literals;

class CourtesyTest : public ServerTest {
 protected:
  server::Config initial_config() const override {
    server::Config cfg = root_not_squashed();
    cfg.nfs.lease_time = 2;
    return cfg;
  }
  void SetUp() override {
    ServerTest::SetUp();
    a = client();
    b = client();
    exp = a->lookup_path("/export");
  }
  OpenOutcome open(NfsClient& c, const std::string& name, uint32_t access, uint32_t deny,
                   bool create = false) {
    return do_open(c, exp, open_args(c, name, access, deny, create, UNCHECKED4, "owner"));
  }
  void wait_courtesy(const NfsClient& away, NfsClient& present) {
    ASSERT_TRUE(became_courtesy(daemon().nfs().state, away, present))
        << "never became a courtesy client";
  }
  // Retries while the answer is NFS4ERR_DELAY (at most 10 s), as a client does.
  template <class Call>
  static auto retrying(Call&& call) {
    auto r = call();
    for (int i = 0; i < 100 && r.status == NFS4ERR_DELAY; ++i) {
      std::this_thread::sleep_for(100ms);
      r = call();
    }
    return r;
  }

  std::unique_ptr<NfsClient> a, b;
  Fh exp;
};

TEST_F(CourtesyTest, AClientBackAfterItsLeaseKeepsItsOpenAndLock) {
  auto o = open(*a, "f", OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, true);
  ASSERT_EQ(o.status, NFS4_OK);
  ASSERT_EQ(do_write(*a, o.fh, o.ok.stateid, 0, to_bytes("kept")).status, NFS4_OK);
  auto l = do_lock(*a, o.fh, new_lock_args(*a, WRITE_LT, 0, 10, o.ok.stateid, "locker"));
  ASSERT_EQ(l.status, NFS4_OK);
  wait_courtesy(*a, *b);

  // Back: the session works, and so do its stateids.
  EXPECT_EQ(a->call(a->builder()).status, NFS4_OK);
  auto r = do_read(*a, o.fh, o.ok.stateid, 0, 4);
  EXPECT_EQ(r.status, NFS4_OK);
  EXPECT_EQ(std::string(r.data.begin(), r.data.end()), "kept");
  EXPECT_EQ(do_locku(*a, o.fh, WRITE_LT, 0, 10, l.stateid).status, NFS4_OK);
  EXPECT_EQ(do_close(*a, o.fh, o.ok.stateid).status, NFS4_OK);
  // Renewed: an ordinary client again.
  ASSERT_TRUE(eventually(
      [&] {
        a->call(a->builder());
        auto s = daemon().nfs().state.client(a->clientid);
        return s && !s->courtesy;
      },
      5s, 100ms));
}

TEST_F(CourtesyTest, ACourtesyClientsShareReservationGivesWay) {
  auto o = open(*a, "f", OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_WRITE, true);
  ASSERT_EQ(o.status, NFS4_OK);
  // While a's lease runs, b is refused.
  EXPECT_EQ(open(*b, "f", OPEN4_SHARE_ACCESS_WRITE, OPEN4_SHARE_DENY_NONE).status,
            NFS4ERR_SHARE_DENIED);
  wait_courtesy(*a, *b);
  auto first = open(*b, "f", OPEN4_SHARE_ACCESS_WRITE, OPEN4_SHARE_DENY_NONE);
  EXPECT_EQ(first.status, NFS4ERR_DELAY);  // a is being expired
  auto later = retrying([&] { return open(*b, "f", OPEN4_SHARE_ACCESS_WRITE, 0); });
  EXPECT_EQ(later.status, NFS4_OK);
  // a is gone, with its session.
  EXPECT_FALSE(daemon().nfs().state.client(a->clientid).has_value());
  EXPECT_EQ(a->call(a->builder()).status, NFS4ERR_BADSESSION);
}

TEST_F(CourtesyTest, ACourtesyClientsLockGivesWay) {
  auto ao = open(*a, "f", OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, true);
  ASSERT_EQ(ao.status, NFS4_OK);
  ASSERT_EQ(do_lock(*a, ao.fh, new_lock_args(*a, WRITE_LT, 0, 100, ao.ok.stateid, "la")).status,
            NFS4_OK);
  auto bo = open(*b, "f", OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE);
  ASSERT_EQ(bo.status, NFS4_OK);
  EXPECT_EQ(do_lock(*b, bo.fh, new_lock_args(*b, WRITE_LT, 50, 10, bo.ok.stateid, "lb")).status,
            NFS4ERR_DENIED);
  wait_courtesy(*a, *b);
  // LOCKT asks too: the courtesy client is expired rather than reported as the holder.
  auto tested = retrying([&] { return do_lockt(*b, bo.fh, WRITE_LT, 50, 10, "lb"); });
  EXPECT_EQ(tested.status, NFS4_OK);
  auto locked = retrying(
      [&] { return do_lock(*b, bo.fh, new_lock_args(*b, WRITE_LT, 50, 10, bo.ok.stateid, "lb")); });
  EXPECT_EQ(locked.status, NFS4_OK);
  EXPECT_FALSE(daemon().nfs().state.client(a->clientid).has_value());
}

// A client that holds nothing has nothing to keep: it expires with its lease, as before.
TEST_F(CourtesyTest, AClientWithoutStateStillExpires) {
  const uint64_t id = a->clientid;
  ASSERT_TRUE(eventually(
      [&] {
        b->call(b->builder());
        return !daemon().nfs().state.client(id).has_value();
      },
      15s, 200ms));
  EXPECT_EQ(a->call(a->builder()).status, NFS4ERR_BADSESSION);
}

// The client-record budget makes room by expiring a courtesy client before refusing anyone.
TEST_F(CourtesyTest, TheClientBudgetExpiresACourtesyClientFirst) {
  server::Config cfg = initial_config();
  cfg.nfs.max_clients = 2;
  start(cfg);
  a = client();
  b = client();
  exp = a->lookup_path("/export");
  ASSERT_EQ(open(*a, "f", OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, true).status, NFS4_OK);
  wait_courtesy(*a, *b);
  auto c = client();  // a third client: a makes room
  EXPECT_EQ(c->call(c->builder()).status, NFS4_OK);
  EXPECT_FALSE(daemon().nfs().state.client(a->clientid).has_value());
  EXPECT_TRUE(daemon().nfs().state.client(b->clientid).has_value());
}

}  // namespace
}  // namespace dfs::testing
