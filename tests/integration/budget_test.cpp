// Budgets that bound what clients can make the server hold (docs/protocol.md, "Budgets"),
// over real sockets: client records, lock owners and byte ranges per client, the reply
// caches negotiated at CREATE_SESSION, callback security lists, and the receive buffers of
// unfinished records. Each budget refuses with the RFC's answer, counts the refusal in
// dittofs_nfs_budget_refusals_total, and leaves well-behaved clients working.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>

#include "../unit/metrics_format_check.h"
#include "nfs4_test_util.h"

namespace dfs::testing {
namespace {

using namespace std::chrono_literals;

class BudgetTest : public ServerTest {
 protected:
  void SetUp() override {}  // each test starts the server with its own budgets
  void start_with(const std::function<void(nfs4::Settings&)>& set) {
    server::Config config;
    set(config.nfs);
    start(config);
  }
  // A client on `from` with a session asking for `slots` slots caching `cached` bytes each.
  std::unique_ptr<NfsClient> session_from(const std::string& from, uint32_t slots,
                                          uint32_t cached) {
    auto c = std::make_unique<NfsClient>("127.0.0.1", port(), 0, 0, from);
    auto ex = exchange_id(*c, exchange_args("cache-" + from + "-" + std::to_string(slots) + "-" +
                                                std::to_string(cached),
                                            verifier_of(1)));
    EXPECT_EQ(ex.status, NFS4_OK);
    auto args = session_args(ex.ok.clientid, ex.ok.sequenceid, slots);
    args.fore.maxresponsesize_cached = cached;
    auto cs = create_session(*c, args);
    EXPECT_EQ(cs.status, NFS4_OK);
    adopt_session(*c, ex.ok.clientid, cs.ok);
    return c;
  }
  double refusals(const std::string& budget) {
    httplib::Client h("127.0.0.1", daemon().metrics_port());
    auto r = h.Get("/metrics");
    if (!r) return -1;
    return metrics::testing::sample_value(
        r->body, "dittofs_nfs_budget_refusals_total{budget=\"" + budget + "\"}");
  }
  // A client that has done EXCHANGE_ID only (an unconfirmed record).
  std::unique_ptr<NfsClient> unconfirmed(const std::string& owner, ExchangeIdResult& out) {
    auto c = bare_client();
    out = exchange_id(*c, exchange_args(owner, verifier_of(1)));
    return c;
  }
  // A file of the export opened read-write by `c` (its open stateid in `o`).
  OpenOutcome open_file(NfsClient& c, const std::string& name) {
    const Fh exp = c.lookup_path("/export");
    auto o = do_open(c, exp, open_args(c, name, OPEN4_SHARE_ACCESS_BOTH, 0, true, UNCHECKED4));
    EXPECT_EQ(o.status, NFS4_OK);
    return o;
  }
};

TEST_F(BudgetTest, ClientRecordsMakeRoomFromUnconfirmedOnesThenAskForDelay) {
  start_with([](nfs4::Settings& s) { s.max_clients = 16; });
  // 15 clients with sessions and one that never confirmed its record.
  std::vector<std::unique_ptr<NfsClient>> confirmed;
  for (int i = 0; i < 15; ++i)
    confirmed.push_back(client());
  ExchangeIdResult first;
  auto idle = unconfirmed("never-confirms", first);
  ASSERT_EQ(first.status, NFS4_OK);
  EXPECT_EQ(daemon().nfs().state.client_count(), 16u);

  // The 17th record takes the unconfirmed one's place: that one is gone.
  ExchangeIdResult second;
  auto late = unconfirmed("late", second);
  ASSERT_EQ(second.status, NFS4_OK);
  EXPECT_EQ(daemon().nfs().state.client_count(), 16u);
  auto cs = create_session(*idle, session_args(first.ok.clientid, first.ok.sequenceid));
  EXPECT_EQ(cs.status, NFS4ERR_STALE_CLIENTID);
  EXPECT_EQ(create_session(*late, session_args(second.ok.clientid, second.ok.sequenceid)).status,
            NFS4_OK);

  // All 16 confirmed: a new client is asked to come back later, and counted.
  ExchangeIdResult third;
  auto refused = unconfirmed("refused", third);
  EXPECT_EQ(third.status, NFS4ERR_DELAY);
  EXPECT_EQ(refusals("clients"), 1);
  // Those with sessions work on.
  for (auto& c : confirmed)
    EXPECT_EQ(c->call(c->builder().op(OP_PUTROOTFH)).status, NFS4_OK);
  // Once one leaves, the new one gets in.
  confirmed.back()->destroy();
  EXPECT_EQ(exchange_id(*refused, exchange_args("refused", verifier_of(1))).status, NFS4_OK);
}

TEST_F(BudgetTest, LockOwnersPerClientAreBounded) {
  start_with([](nfs4::Settings& s) { s.max_lock_owners_per_client = 4; });
  auto a = client();
  auto b = client();
  auto ao = open_file(*a, "owners");
  std::vector<Stateid> held;
  for (int i = 0; i < 4; ++i) {
    auto l =
        do_lock(*a, ao.fh,
                new_lock_args(*a, WRITE_LT, i * 10, 10, ao.ok.stateid, "lo" + std::to_string(i)));
    ASSERT_EQ(l.status, NFS4_OK) << i;
    held.push_back(l.stateid);
  }
  auto over = do_lock(*a, ao.fh, new_lock_args(*a, WRITE_LT, 100, 10, ao.ok.stateid, "lo4"));
  EXPECT_EQ(over.status, NFS4ERR_DELAY);
  EXPECT_EQ(refusals("lock_owners"), 1);
  // An existing owner still locks more, and another client has a budget of its own.
  auto more = do_lock(*a, ao.fh, existing_lock_args(WRITE_LT, 200, 10, held[0]));
  ASSERT_EQ(more.status, NFS4_OK);
  auto bo = open_file(*b, "owners-b");
  EXPECT_EQ(do_lock(*b, bo.fh, new_lock_args(*b, WRITE_LT, 0, 10, bo.ok.stateid, "lo4")).status,
            NFS4_OK);
  // Owners go with their state: once one owner has unlocked and freed its lock stateid, a
  // new owner fits again.
  auto un = do_locku(*a, ao.fh, WRITE_LT, 0, kUint64Max, more.stateid);
  ASSERT_EQ(un.status, NFS4_OK);
  auto fr = a->call(a->builder().op(OP_FREE_STATEID, StateidArgs{un.ok.stateid}));
  ASSERT_EQ(fr.next_status(OP_FREE_STATEID), NFS4_OK);
  EXPECT_EQ(do_lock(*a, ao.fh, new_lock_args(*a, WRITE_LT, 100, 10, ao.ok.stateid, "lo4")).status,
            NFS4_OK);
  EXPECT_EQ(refusals("lock_owners"), 1);
}

TEST_F(BudgetTest, ByteRangesPerClientAreBoundedAndFreedOnUnlock) {
  start_with([](nfs4::Settings& s) { s.max_locks_per_client = 100; });
  auto a = client();
  auto ao = open_file(*a, "ranges");
  auto l = do_lock(*a, ao.fh, new_lock_args(*a, WRITE_LT, 0, 1, ao.ok.stateid, "ranges"));
  ASSERT_EQ(l.status, NFS4_OK);
  Stateid ls = l.stateid;
  // 100 disjoint ranges (every other byte, so none merge or split).
  for (uint64_t i = 1; i < 100; ++i) {
    auto r = do_lock(*a, ao.fh, existing_lock_args(WRITE_LT, 2 * i, 1, ls));
    ASSERT_EQ(r.status, NFS4_OK) << i;
    ls = r.stateid;
  }
  EXPECT_EQ(daemon().nfs().state.lock_count(), 100u);
  auto over = do_lock(*a, ao.fh, existing_lock_args(WRITE_LT, 1000, 1, ls));
  EXPECT_EQ(over.status, NFS4ERR_DELAY);
  EXPECT_EQ(refusals("locks"), 1);
  // Unlocking one range in the middle frees its place.
  auto u = do_locku(*a, ao.fh, WRITE_LT, 50, 1, ls);
  ASSERT_EQ(u.status, NFS4_OK);
  ls = u.ok.stateid;
  auto fits = do_lock(*a, ao.fh, existing_lock_args(WRITE_LT, 1000, 1, ls));
  EXPECT_EQ(fits.status, NFS4_OK);
  EXPECT_EQ(daemon().nfs().state.lock_count(), 100u);
  // Unlocking a span that covers many ranges frees them all.
  ls = fits.stateid;
  ASSERT_EQ(do_locku(*a, ao.fh, WRITE_LT, 0, 100, ls).status, NFS4_OK);
  EXPECT_EQ(daemon().nfs().state.lock_count(), 51u);
}

TEST_F(BudgetTest, ReplyCachesAreNegotiatedDownPerSessionAndPerClientAddress) {
  start_with([](nfs4::Settings& s) {
    s.reply_cache_budget_mb = 2;
    s.v4_max_session_slots = 64;
  });
  auto worst = [](const NfsClient& c) {
    return uint64_t{c.fore.maxresponsesize_cached} * c.fore.maxrequests;
  };
  // 64 slots caching 1 MiB each (64 MiB) from one address: the worst case comes down to the
  // address's eighth of the 2 MiB budget, by the cached size first.
  auto a = session_from("127.0.0.1", 64, 1u << 20);
  EXPECT_EQ(a->fore.maxrequests, 64u);
  EXPECT_LE(worst(*a), 256u << 10);
  EXPECT_GE(a->fore.maxresponsesize_cached, 4096u);
  EXPECT_EQ(a->call(a->builder().op(OP_PUTROOTFH), 63, true).status, NFS4_OK);
  // That address has spent its share: its next session gets one slot with the smallest
  // cache (still usable), and the refusal is counted.
  auto a2 = session_from("127.0.0.1", 16, 64u << 10);
  EXPECT_EQ(a2->fore.maxrequests, 1u);
  EXPECT_EQ(a2->fore.maxresponsesize_cached, 4096u);
  EXPECT_EQ(refusals("reply_cache"), 1);
  EXPECT_EQ(a2->call(a2->builder().op(OP_PUTROOTFH)).status, NFS4_OK);
  // Other addresses get their own share, until the whole budget is spent.
  std::vector<std::unique_ptr<NfsClient>> others;
  for (int i = 2; i <= 8; ++i) {
    others.push_back(session_from("127.0.0." + std::to_string(i), 16, 16u << 10));
    EXPECT_EQ(others.back()->fore.maxrequests, 16u) << i;
  }
  auto late = session_from("127.0.0.9", 16, 64u << 10);
  EXPECT_EQ(late->fore.maxrequests, 1u);
  EXPECT_EQ(refusals("reply_cache"), 2);
  // A session that ends gives its share back.
  EXPECT_EQ(a->call(a->builder().op(OP_DESTROY_SESSION, SessionIdArgs{a->sessionid})).status,
            NFS4_OK);
  auto again = session_from("127.0.0.1", 16, 16u << 10);
  EXPECT_EQ(again->fore.maxrequests, 16u);
}

// Courtesy clients (§8.4.3) keep their sessions' share of the reply-cache budget only until a
// new session needs it: then the one away longest gives its sessions up, and no more of them.
TEST_F(BudgetTest, CourtesyClientsGiveTheirReplyCacheShareToANewSession) {
  start_with([](nfs4::Settings& s) {
    s.reply_cache_budget_mb = 2;
    s.v4_max_session_slots = 64;
    s.lease_time = 2;
  });
  // Eight clients, one per address, each with an open file and a session holding its
  // address's whole share (an eighth of the budget): the budget is spent.
  std::vector<std::unique_ptr<NfsClient>> away;
  for (int i = 1; i <= 8; ++i) {
    const std::string n = std::to_string(i);
    away.push_back(session_from("127.0.0." + n, 16, 16u << 10));
    NfsClient& c = *away.back();
    ASSERT_EQ(c.fore.maxrequests, 16u) << i;
    // Nothing to reclaim: new opens may follow (§18.51.3).
    ASSERT_EQ(c.call(c.builder().op(OP_RECLAIM_COMPLETE, ReclaimCompleteArgs{false})).status,
              NFS4_OK);
    const Fh exp = c.lookup_path("/export");
    auto o = do_open(c, exp,
                     open_args(c, "f" + n, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, true,
                               UNCHECKED4, "owner"));
    ASSERT_EQ(o.status, NFS4_OK) << i;
  }
  // They go quiet; their leases run out, and they are kept as courtesy clients.
  auto& state = daemon().nfs().state;
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& c : away) {
          auto s = state.client(c->clientid);
          if (!s || !s->courtesy) return false;
        }
        return true;
      },
      std::chrono::seconds(15), std::chrono::milliseconds(100)));
  // A new session gets all it asks for (before, one slot: the budget was spent).
  auto late = session_from("127.0.0.9", 16, 16u << 10);
  EXPECT_EQ(late->fore.maxrequests, 16u);
  EXPECT_EQ(late->fore.maxresponsesize_cached, 16u << 10);
  EXPECT_EQ(refusals("reply_cache"), 0);
  size_t kept = 0;
  for (const auto& c : away)
    kept += state.client(c->clientid) ? 1 : 0;
  EXPECT_EQ(kept, 7u);
}

TEST_F(BudgetTest, CallbackSecurityListsAreBoundedAtDecoding) {
  start_with([](nfs4::Settings&) {});
  auto c = bare_client();
  auto ex = exchange_id(*c, exchange_args("cbsec", verifier_of(1)));
  ASSERT_EQ(ex.status, NFS4_OK);
  auto args = session_args(ex.ok.clientid, ex.ok.sequenceid);
  args.sec_parms.assign(17, args.sec_parms.front());
  EXPECT_EQ(create_session(*c, args).status, NFS4ERR_BADXDR);
  EXPECT_EQ(daemon().nfs().state.session_count(), 0u);
  args.sec_parms.resize(16);
  auto cs_ok = create_session(*c, args);
  ASSERT_EQ(cs_ok.status, NFS4_OK);
  // The same bound in BACKCHANNEL_CTL.
  adopt_session(*c, ex.ok.clientid, cs_ok.ok);
  BackchannelCtlArgs bc;
  bc.cb_program = 0x40000000;
  bc.sec_parms.assign(17, args.sec_parms.front());
  auto r = c->call(c->builder().op(OP_BACKCHANNEL_CTL, bc));
  EXPECT_EQ(r.next_status(OP_BACKCHANNEL_CTL), NFS4ERR_BADXDR);
}

// A raw connection that sends a record head and part of its body, as a slow client would.
int send_partial_record(uint16_t port, size_t record_size, size_t sent, bool fragments) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  std::vector<uint8_t> bytes;
  auto mark = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8)
      bytes.push_back(static_cast<uint8_t>(v >> s));
  };
  if (fragments) {
    // Many 4 KiB fragments that are not the last: they collect in the framer.
    for (size_t done = 0; done < sent; done += 4096) {
      mark(4096);
      bytes.insert(bytes.end(), 4096, 0);
    }
  } else {
    mark(0x80000000u | static_cast<uint32_t>(record_size));
    bytes.insert(bytes.end(), sent, 0);
  }
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server closed it
    off += static_cast<size_t>(n);
  }
  return fd;
}

// Whether the server closed `fd` within the limit (a read sees EOF or a reset).
bool closed_by_server(int fd, std::chrono::milliseconds limit) {
  timeval tv{static_cast<time_t>(limit.count() / 1000),
             static_cast<suseconds_t>((limit.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char b;
  ssize_t n = ::recv(fd, &b, 1, 0);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

TEST_F(BudgetTest, UnfinishedRecordsDrawOnTheReceiveBudget) {
  start_with([](nfs4::Settings& s) {
    s.receive_budget_mb = 4;
    s.max_record_size = 4u << 20;
  });
  auto good = client();
  const int64_t full = daemon().transport().receive_budget_left();
  EXPECT_EQ(full, int64_t{4} << 20);
  // One slow sender of a 1.5 MiB record fits, and its buffer is charged.
  int first = send_partial_record(port(), 1536u << 10, 1024u << 10, false);
  ASSERT_GE(first, 0);
  ASSERT_TRUE(eventually([&] { return daemon().transport().receive_budget_left() < full; }, 10s));
  // More of them spend the budget: those that do not fit are closed, and counted.
  std::vector<int> more;
  for (int i = 0; i < 4; ++i)
    more.push_back(send_partial_record(port(), 1536u << 10, 1024u << 10, false));
  ASSERT_TRUE(eventually([&] { return refusals("receive") >= 1; }, 10s));
  int closed = 0;
  for (int fd : more)
    closed += closed_by_server(fd, 2s) ? 1 : 0;
  EXPECT_GE(closed, 1);
  EXPECT_GE(daemon().transport().receive_budget_left(), 0);
  // The client with a session is served throughout, with a 512 KiB WRITE too (its bytes are
  // charged while they arrive and given back after).
  EXPECT_EQ(good->call(good->builder().op(OP_PUTROOTFH)).status, NFS4_OK);
  // Closing the slow connections gives their budget back.
  ::close(first);
  for (int fd : more)
    ::close(fd);
  EXPECT_TRUE(eventually([&] { return daemon().transport().receive_budget_left() == full; }, 10s));
  const Fh exp = good->lookup_path("/export");
  auto o =
      do_open(*good, exp, open_args(*good, "big", OPEN4_SHARE_ACCESS_BOTH, 0, true, UNCHECKED4));
  ASSERT_EQ(o.status, NFS4_OK);
  std::vector<uint8_t> data(512u << 10, 'x');
  EXPECT_EQ(do_write(*good, o.fh, o.ok.stateid, 0, data).status, NFS4_OK);
  EXPECT_TRUE(eventually([&] { return daemon().transport().receive_budget_left() == full; }, 10s));
}

TEST_F(BudgetTest, RecordsSentInSmallFragmentsDrawOnTheReceiveBudgetToo) {
  start_with([](nfs4::Settings& s) {
    s.receive_budget_mb = 2;
    s.max_record_size = 4u << 20;
  });
  auto good = client();
  const int64_t full = daemon().transport().receive_budget_left();
  // 3 MiB in 4 KiB fragments, none the last: more than the budget holds.
  int fd = send_partial_record(port(), 0, 3u << 20, true);
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(closed_by_server(fd, 10s));
  EXPECT_GE(refusals("receive"), 1);
  ::close(fd);
  EXPECT_TRUE(eventually([&] { return daemon().transport().receive_budget_left() == full; }, 10s));
  EXPECT_EQ(good->call(good->builder().op(OP_PUTROOTFH)).status, NFS4_OK);
}

}  // namespace
}  // namespace dfs::testing
