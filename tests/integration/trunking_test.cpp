// Session trunking and connection management over real sockets (RFC 8881 §2.10.5,
// §18.34, §2.10.8.3): several connections per session in each direction, the per-session
// connection limit, unbinding on close, destroy and drain, ownership and SP4_MACH_CRED,
// the server's connection limit and idle timeout, server_owner, and what the REST API and
// the metrics say about all of it.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "../unit/metrics_format_check.h"
#include "nfs4_test_util.h"

namespace dfs::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string hex(const SessionId& id) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (uint8_t b : id) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string client_hex(uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

class TrunkingTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    token_ = login();
  }
  std::string login() {
    httplib::Client h("127.0.0.1", daemon().api_port());
    auto r = h.Post(
        "/api/v1/auth/login",
        json{{"username", "admin"}, {"password", daemon().generated_admin_password()}}.dump(),
        "application/json");
    if (!r || r->status != 200) return "";
    return json::parse(r->body)["access_token"];
  }
  json rest(const std::string& method, const std::string& path, const json& body = nullptr,
            int expect = 200) {
    httplib::Client h("127.0.0.1", daemon().api_port());
    h.set_read_timeout(10);
    httplib::Headers auth = {{"Authorization", "Bearer " + token_}};
    httplib::Result r =
        method == "GET" ? h.Get(path.c_str(), auth)
        : method == "POST"
            ? h.Post(path.c_str(), auth, body.is_null() ? "" : body.dump(), "application/json")
            : h.Patch(path.c_str(), auth, body.dump(), "application/json");
    if (!r) {
      ADD_FAILURE() << method << " " << path << ": no response";
      return nullptr;
    }
    EXPECT_EQ(r->status, expect) << method << " " << path << ": " << r->body;
    return r->body.empty() ? json(nullptr) : json::parse(r->body, nullptr, false);
  }
  json sessions_of(const NfsClient& c) {
    return rest("GET", "/api/v1/clients/" + client_hex(c.clientid) + "/sessions");
  }
  json session_of(const NfsClient& c) {
    for (auto& s : sessions_of(c)) {
      if (s["id"] == hex(c.sessionid)) return s;
    }
    return nullptr;
  }
  std::string scrape() {
    httplib::Client h("127.0.0.1", daemon().metrics_port());
    auto r = h.Get("/metrics");
    return r ? r->body : "";
  }
  double metric(const std::string& series) {
    return metrics::testing::sample_value(scrape(), series);
  }
  // Another connection for `base`'s session (not bound yet), with `base`'s credentials.
  std::unique_ptr<NfsClient> join(const NfsClient& base, uint32_t uid = 0) {
    auto c = std::make_unique<NfsClient>("127.0.0.1", port(), uid, uid);
    c->clientid = base.clientid;
    c->sessionid = base.sessionid;
    c->fore = base.fore;
    c->slot_seq = base.slot_seq;
    return c;
  }
  static BindConnResult bind(NfsClient& c, const SessionId& sid, channel_dir_from_client4 dir) {
    BindConnArgs a;
    a.sessionid = sid;
    a.dir = dir;
    auto r = c.compound(c.builder().op(OP_BIND_CONN_TO_SESSION, a));
    return r.next<BindConnResult>(OP_BIND_CONN_TO_SESSION);
  }
  size_t bound_connections(const NfsClient& c) {
    for (const auto& s : daemon().nfs().state.sessions(c.clientid)) {
      if (s.id == c.sessionid) return s.connections.size();
    }
    return 0;
  }
  std::string token_;
};

TEST_F(TrunkingTest, SlotsOfOneSessionRunConcurrentlyOverSeveralConnections) {
  auto base = client();
  constexpr int kConns = 4;
  std::vector<std::unique_ptr<NfsClient>> conns;
  for (int i = 0; i < kConns; ++i) {
    conns.push_back(join(*base));
    ASSERT_EQ(bind(*conns.back(), base->sessionid, CDFC4_FORE).status, NFS4_OK);
  }
  Fh exp = base->lookup_path("/export");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kConns; ++i) {
    threads.emplace_back([&, i] {
      NfsClient& c = *conns[i];
      const uint32_t slot = static_cast<uint32_t>(i + 1);  // each connection its own slot
      OpenArgs oa = open_args(c, "trunk-" + std::to_string(i), OPEN4_SHARE_ACCESS_BOTH,
                              OPEN4_SHARE_DENY_NONE, true);
      auto r = c.call(c.builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_OPEN, oa).op(OP_GETFH), slot);
      if (r.status != NFS4_OK) {
        failures++;
        return;
      }
      r.next_status(OP_PUTFH);
      auto open = r.next<OpenResult>(OP_OPEN);
      NfsClient::Opened o{r.next<GetFhResult>(OP_GETFH).ok.object, open.ok.stateid};
      for (int n = 0; n < 50; ++n) {
        std::vector<uint8_t> data(512, static_cast<uint8_t>(i * 50 + n));
        WriteArgs wa;
        wa.stateid = o.stateid;
        wa.offset = static_cast<uint64_t>(n) * 512;
        wa.stable = FILE_SYNC4;
        wa.data.bytes = data;
        if (c.call(c.builder().op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_WRITE, wa), slot).status !=
            NFS4_OK) {
          failures++;
        }
      }
      auto rd = c.call(
          c.builder().op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_READ, ReadArgs{o.stateid, 0, 50 * 512}),
          slot);
      rd.next_status(OP_PUTFH);
      auto res = rd.next<ReadResult>(OP_READ);
      std::vector<uint8_t> got;
      for (const auto& p : res.ok.pieces)
        got.insert(got.end(), p.bytes.begin(), p.bytes.end());
      for (int n = 0; n < 50 && got.size() == 50 * 512; ++n) {
        if (got[static_cast<size_t>(n) * 512] != static_cast<uint8_t>(i * 50 + n)) failures++;
      }
      if (got.size() != 50 * 512) failures++;
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(bound_connections(*base), kConns + 1u);
  auto s = session_of(*base);
  ASSERT_TRUE(s.is_object());
  EXPECT_EQ(s["connection_summary"]["total"], kConns + 1);
  EXPECT_EQ(s["connection_summary"]["fore"], kConns + 1);
  EXPECT_EQ(s["connections"].size(), kConns + 1u);
  EXPECT_EQ(metric("dittofs_nfs_connections_bound{session=\"" + hex(base->sessionid) + "\"}"),
            kConns + 1);
}

TEST_F(TrunkingTest, EachDirectionIsGrantedAsTheRfcSays) {
  auto base = client();
  struct Case {
    channel_dir_from_client4 asked;
    channel_dir_from_server4 granted;
    const char* name;
  };
  const Case cases[] = {{CDFC4_FORE, CDFS4_FORE, "fore"},
                        {CDFC4_BACK, CDFS4_BACK, "back"},
                        {CDFC4_FORE_OR_BOTH, CDFS4_BOTH, "both"},
                        {CDFC4_BACK_OR_BOTH, CDFS4_BOTH, "both"}};
  std::vector<std::unique_ptr<NfsClient>> conns;
  for (const auto& c : cases) {
    conns.push_back(join(*base));
    auto r = bind(*conns.back(), base->sessionid, c.asked);
    ASSERT_EQ(r.status, NFS4_OK);
    EXPECT_EQ(r.ok.dir, c.granted);
    EXPECT_EQ(r.ok.sessionid, base->sessionid);
    EXPECT_FALSE(r.ok.use_conn_in_rdma_mode);
  }
  auto s = session_of(*base);
  EXPECT_EQ(s["connection_summary"]["fore"], 2);  // the first connection and CDFC4_FORE
  EXPECT_EQ(s["connection_summary"]["back"], 1);
  EXPECT_EQ(s["connection_summary"]["both"], 2);
  // Asking for RDMA mode over TCP binds the connection in TCP mode and says so.
  auto rdma = join(*base);
  BindConnArgs a;
  a.sessionid = base->sessionid;
  a.dir = CDFC4_FORE;
  a.use_conn_in_rdma_mode = true;
  auto r = rdma->compound(rdma->builder().op(OP_BIND_CONN_TO_SESSION, a));
  auto res = r.next<BindConnResult>(OP_BIND_CONN_TO_SESSION);
  ASSERT_EQ(res.status, NFS4_OK);
  EXPECT_FALSE(res.ok.use_conn_in_rdma_mode);
  // Not the only operation: refused.
  auto two = join(*base);
  auto r2 = two->compound(two->builder().op(OP_BIND_CONN_TO_SESSION, a).op(OP_PUTROOTFH));
  EXPECT_EQ(r2.next<BindConnResult>(OP_BIND_CONN_TO_SESSION).status, NFS4ERR_NOT_ONLY_OP);
}

TEST_F(TrunkingTest, RebindChangesTheDirectionButASessionKeepsAForeConnection) {
  auto base = client();  // its connection is the session's only fore connection
  // The only fore connection cannot become back-only.
  EXPECT_EQ(bind(*base, base->sessionid, CDFC4_BACK).status, NFS4ERR_INVAL);
  // Adding the back channel to it is fine, and so is asking for what it has.
  auto both = bind(*base, base->sessionid, CDFC4_FORE_OR_BOTH);
  ASSERT_EQ(both.status, NFS4_OK);
  EXPECT_EQ(both.ok.dir, CDFS4_BOTH);
  EXPECT_EQ(session_of(*base)["connection_summary"]["both"], 1);
  // With a second fore connection the first may give its fore channel up.
  auto second = join(*base);
  ASSERT_EQ(bind(*second, base->sessionid, CDFC4_FORE).status, NFS4_OK);
  const double explicit_before =
      metric("dittofs_nfs_connections_unbind_total{reason=\"explicit\"}");
  auto back = bind(*base, base->sessionid, CDFC4_BACK);
  ASSERT_EQ(back.status, NFS4_OK);
  EXPECT_EQ(back.ok.dir, CDFS4_BACK);
  auto s = session_of(*base);
  EXPECT_EQ(s["connection_summary"]["back"], 1);
  EXPECT_EQ(s["connection_summary"]["fore"], 1);
  EXPECT_EQ(s["connection_summary"]["total"], 2);
  EXPECT_EQ(metric("dittofs_nfs_connections_unbind_total{reason=\"explicit\"}"),
            explicit_before + 1);
  // ...and now the second one is the last fore connection.
  EXPECT_EQ(bind(*second, base->sessionid, CDFC4_BACK).status, NFS4ERR_INVAL);
  // The session goes on over the fore connection.
  EXPECT_EQ(second->call(second->builder().op(OP_PUTROOTFH), 3).status, NFS4_OK);
}

TEST_F(TrunkingTest, ConnectionLimitRefusesUntilAConnectionCloses) {
  auto base = client();
  rest("PATCH", "/api/v1/adapters/nfs/settings", {{"v4_max_connections_per_session", 2}});
  auto second = join(*base);
  ASSERT_EQ(bind(*second, base->sessionid, CDFC4_FORE).status, NFS4_OK);
  const double rejected_before =
      metric("dittofs_nfs_connections_rejected_total{reason=\"session_limit\"}");
  // The third connection is refused, explicitly or by using the session, and nothing changes.
  auto third = join(*base);
  EXPECT_EQ(bind(*third, base->sessionid, CDFC4_FORE).status, NFS4ERR_DELAY);
  auto r = third->call(third->builder().op(OP_PUTROOTFH), 5);
  EXPECT_EQ(r.status, NFS4ERR_DELAY);
  third->slot_seq[5]--;  // the refused request did not use the slot
  EXPECT_EQ(bound_connections(*base), 2u);
  EXPECT_EQ(metric("dittofs_nfs_connections_rejected_total{reason=\"session_limit\"}"),
            rejected_before + 2);
  // Once another connection has gone the same connection gets in.
  second->rpc().close();
  ASSERT_TRUE(eventually([&] { return bound_connections(*base) == 1; }, 10s));
  EXPECT_EQ(third->call(third->builder().op(OP_PUTROOTFH), 5).status, NFS4_OK);
  EXPECT_EQ(bound_connections(*base), 2u);
  // A limit of 0 is no limit.
  rest("PATCH", "/api/v1/adapters/nfs/settings", {{"v4_max_connections_per_session", 0}});
  auto fourth = join(*base);
  EXPECT_EQ(bind(*fourth, base->sessionid, CDFC4_FORE).status, NFS4_OK);
}

TEST_F(TrunkingTest, ClosedSocketIsUnboundInRestAndMetrics) {
  auto base = client();
  auto second = join(*base);
  ASSERT_EQ(bind(*second, base->sessionid, CDFC4_BACK_OR_BOTH).status, NFS4_OK);
  const std::string bound =
      "dittofs_nfs_connections_bound{session=\"" + hex(base->sessionid) + "\"}";
  EXPECT_EQ(metric(bound), 2);
  EXPECT_EQ(session_of(*base)["connection_summary"]["total"], 2);
  const double disconnects = metric("dittofs_nfs_connections_unbind_total{reason=\"disconnect\"}");
  const double binds = metric("dittofs_nfs_connections_bind_total{direction=\"both\"}");
  EXPECT_GE(binds, 1);
  second->rpc().close();
  ASSERT_TRUE(
      eventually([&] { return session_of(*base)["connection_summary"]["total"] == 1; }, 10s));
  EXPECT_EQ(metric(bound), 1);
  EXPECT_EQ(metric("dittofs_nfs_connections_unbind_total{reason=\"disconnect\"}"), disconnects + 1);
  // The session lives on: it has lost its back channel, and SEQUENCE says so (§18.46.3).
  auto r = base->call(base->builder());
  ASSERT_EQ(r.status, NFS4_OK);
  auto b = sequenced(*base, 2);
  auto seq = base->compound(b).next<SequenceResult>(OP_SEQUENCE);
  ASSERT_EQ(seq.status, NFS4_OK);
  EXPECT_TRUE(seq.ok.status_flags & SEQ4_STATUS_CB_PATH_DOWN_SESSION);
  // GET /connections lists the live connection with its binding.
  auto conns = rest("GET", "/api/v1/connections");
  bool found = false;
  for (const auto& c : conns) {
    for (const auto& s : c["sessions"]) {
      if (s["session"] == hex(base->sessionid)) {
        found = true;
        EXPECT_EQ(s["client"], client_hex(base->clientid));
        EXPECT_EQ(s["direction"], "fore");
        EXPECT_GT(c["bytes_in"].get<uint64_t>(), 0u);
        EXPECT_GT(c["bytes_out"].get<uint64_t>(), 0u);
        EXPECT_EQ(c["draining"], false);
      }
    }
  }
  EXPECT_TRUE(found);
  EXPECT_TRUE(metrics::testing::check_exposition(scrape()).empty());
}

TEST_F(TrunkingTest, DestroySessionRemovesItsBindingsAndGauge) {
  auto base = client();
  auto second = join(*base);
  ASSERT_EQ(bind(*second, base->sessionid, CDFC4_FORE).status, NFS4_OK);
  const double destroyed =
      metric("dittofs_nfs_connections_unbind_total{reason=\"session_destroy\"}");
  auto r = base->call(base->builder().op(OP_DESTROY_SESSION, SessionIdArgs{base->sessionid}));
  ASSERT_EQ(r.status, NFS4_OK);
  EXPECT_EQ(metric("dittofs_nfs_connections_unbind_total{reason=\"session_destroy\"}"),
            destroyed + 2);
  EXPECT_EQ(scrape().find(hex(base->sessionid)), std::string::npos);
  // Both sockets stay open, bound to nothing now.
  for (const auto& c : rest("GET", "/api/v1/connections"))
    EXPECT_TRUE(c["sessions"].empty());
  EXPECT_EQ(daemon().transport().connection_count(), 2u);
}

TEST_F(TrunkingTest, OneClientWithTwoSessionsAndAConnectionBoundToBoth) {
  auto base = client();
  // A second session of the same client id, over a connection of its own.
  auto other = std::make_unique<NfsClient>("127.0.0.1", port());
  auto cs = create_session(*other, session_args(base->clientid, base->create_seq));
  ASSERT_EQ(cs.status, NFS4_OK);
  adopt_session(*other, base->clientid, cs.ok);
  EXPECT_NE(cs.ok.sessionid, base->sessionid);
  EXPECT_EQ(other->call(other->builder().op(OP_PUTROOTFH)).status, NFS4_OK);
  EXPECT_EQ(base->call(base->builder().op(OP_PUTROOTFH)).status, NFS4_OK);
  EXPECT_EQ(sessions_of(*base).size(), 2u);
  // The first connection also serves the second session (a connection may be bound to
  // several sessions, §2.10.3.1).
  ASSERT_EQ(bind(*base, cs.ok.sessionid, CDFC4_FORE).status, NFS4_OK);
  size_t both = 0;
  for (const auto& c : rest("GET", "/api/v1/connections"))
    both = std::max(both, c["sessions"].size());
  EXPECT_EQ(both, 2u);
  // The per-client session limit is enforced live (NFS4ERR_NOSPC, §18.36.4).
  rest("PATCH", "/api/v1/adapters/nfs/settings", {{"v4_max_sessions_per_client", 2}});
  auto third = std::make_unique<NfsClient>("127.0.0.1", port());
  EXPECT_EQ(create_session(*third, session_args(base->clientid, base->create_seq + 1)).status,
            NFS4ERR_NOSPC);
}

TEST_F(TrunkingTest, AnotherClientCannotDestroyOrTakeASession) {
  auto victim = client(0);
  auto attacker = client(1000, 1000);
  // DESTROY_SESSION of the victim's session inside the attacker's own session: the
  // attacker's connection is not bound to it (§18.37.3).
  auto r =
      attacker->call(attacker->builder().op(OP_DESTROY_SESSION, SessionIdArgs{victim->sessionid}));
  EXPECT_EQ(r.status, NFS4ERR_CONN_NOT_BOUND_TO_SESSION);
  // Without a session of its own either.
  auto bare = bare_client();
  auto r2 =
      bare->compound(bare->builder().op(OP_DESTROY_SESSION, SessionIdArgs{victim->sessionid}));
  EXPECT_EQ(r2.next_status(OP_DESTROY_SESSION), NFS4ERR_CONN_NOT_BOUND_TO_SESSION);
  // DESTROY_CLIENTID of a client with a session is busy, whoever asks.
  auto r3 =
      attacker->call(attacker->builder().op(OP_DESTROY_CLIENTID, ClientIdArgs{victim->clientid}));
  EXPECT_EQ(r3.status, NFS4ERR_CLIENTID_BUSY);
  // The victim is untouched.
  EXPECT_EQ(victim->call(victim->builder().op(OP_PUTROOTFH)).status, NFS4_OK);
  // Client and session ids carry 64 random bits: no two clients here share their high halves
  // in a pattern an attacker could step through.
  EXPECT_NE(victim->clientid + 1, attacker->clientid);
  EXPECT_NE(std::vector<uint8_t>(victim->sessionid.begin() + 8, victim->sessionid.end()),
            std::vector<uint8_t>(attacker->sessionid.begin() + 8, attacker->sessionid.end()));
}

TEST_F(TrunkingTest, MachineCredentialIsRecordedAndEnforced) {
  auto owner = std::make_unique<NfsClient>("127.0.0.1", port(), 0, 0);
  owner->state_protect.how = SP4_MACH_CRED;
  Bitmap enforce{OP_CREATE_SESSION, OP_DESTROY_SESSION, OP_BIND_CONN_TO_SESSION,
                 OP_DESTROY_CLIENTID, OP_BACKCHANNEL_CTL};
  owner->state_protect.mach_ops.must_enforce = enforce;
  owner->state_protect.mach_ops.must_allow = Bitmap{OP_CLOSE, OP_LOCKU};
  owner->establish("", 16, CREATE_SESSION4_FLAG_CONN_BACK_CHAN);
  ASSERT_EQ(owner->state_protect_result.how, SP4_MACH_CRED);
  for (uint32_t op : {OP_CREATE_SESSION, OP_DESTROY_SESSION, OP_BIND_CONN_TO_SESSION,
                      OP_DESTROY_CLIENTID, OP_BACKCHANNEL_CTL}) {
    EXPECT_TRUE(owner->state_protect_result.mach_ops.must_enforce.test(op)) << op;
  }
  EXPECT_TRUE(owner->state_protect_result.mach_ops.must_allow.test(OP_CLOSE));
  EXPECT_EQ(rest("GET", "/api/v1/clients/" + client_hex(owner->clientid))["state_protection"],
            "mach_cred");

  // A new connection is not bound by using it (§18.34.3): SEQUENCE says so.
  auto user = join(*owner, 1000);
  EXPECT_EQ(user->call(user->builder().op(OP_PUTROOTFH), 1).status,
            NFS4ERR_CONN_NOT_BOUND_TO_SESSION);
  user->slot_seq[1]--;
  // Another principal cannot bind it; the machine credential can.
  const double wrong_cred = metric("dittofs_nfs_connections_rejected_total{reason=\"wrong_cred\"}");
  EXPECT_EQ(bind(*user, owner->sessionid, CDFC4_FORE).status, NFS4ERR_WRONG_CRED);
  EXPECT_EQ(metric("dittofs_nfs_connections_rejected_total{reason=\"wrong_cred\"}"),
            wrong_cred + 1);
  user->rpc().set_auth_sys(0, 0);
  ASSERT_EQ(bind(*user, owner->sessionid, CDFC4_FORE).status, NFS4_OK);
  // Ordinary operations are anyone's; the enforced ones only the machine credential's.
  user->rpc().set_auth_sys(1000, 1000);
  EXPECT_EQ(user->call(user->builder().op(OP_PUTROOTFH), 1).status, NFS4_OK);
  BackchannelCtlArgs bc;
  bc.cb_program = 0x40000001;
  CallbackSecParms none;
  bc.sec_parms.push_back(none);
  EXPECT_EQ(user->call(user->builder().op(OP_BACKCHANNEL_CTL, bc), 1).status, NFS4ERR_WRONG_CRED);
  EXPECT_EQ(
      user->call(user->builder().op(OP_DESTROY_SESSION, SessionIdArgs{owner->sessionid}), 1).status,
      NFS4ERR_WRONG_CRED);
  auto other = client(1000, 1000);
  EXPECT_EQ(
      other->call(other->builder().op(OP_DESTROY_CLIENTID, ClientIdArgs{owner->clientid})).status,
      NFS4ERR_WRONG_CRED);
  auto cs = create_session(*user, session_args(owner->clientid, owner->create_seq));
  EXPECT_EQ(cs.status, NFS4ERR_WRONG_CRED);
  // The machine credential does all of it.
  EXPECT_EQ(owner->call(owner->builder().op(OP_BACKCHANNEL_CTL, bc)).status, NFS4_OK);
  EXPECT_EQ(
      owner->call(owner->builder().op(OP_DESTROY_SESSION, SessionIdArgs{owner->sessionid})).status,
      NFS4_OK);
}

TEST_F(TrunkingTest, ThousandsOfIdleConnectionsDoNotKeepSessionsOrNewClientsOut) {
  rlimit lim{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  // Both ends of every connection live in this process.
  const size_t idle = std::min<size_t>(2000, (lim.rlim_cur - 200) / 2);
  ASSERT_GE(idle, 400u) << "descriptor limit too low for this test";
  rest("PATCH", "/api/v1/adapters/nfs/settings", {{"max_connections", 300}});
  auto working = client();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<int> fds;
  for (size_t i = 0; i < idle; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    fds.push_back(fd);
    // The client with a session is served all along.
    if (i % 100 == 0) {
      ASSERT_EQ(working->call(working->builder().op(OP_PUTROOTFH)).status, NFS4_OK);
    }
  }
  // The server kept to its limit by shedding idle connections bound to no session, one for
  // every connection over it once the acceptor has taken them all from the backlog (the
  // connects above complete before they are accepted).
  ASSERT_TRUE(eventually(
      [&] {
        return metric("dittofs_nfs_connections_rejected_total{reason=\"max_connections\"}") >=
               static_cast<double>(idle - 300);
      },
      30s, 100ms));
  EXPECT_LE(daemon().transport().connection_count(), 301u);
  // A new client gets in and works, and the working one is still bound.
  auto fresh = client();
  EXPECT_EQ(fresh->call(fresh->builder().op(OP_PUTROOTFH)).status, NFS4_OK);
  EXPECT_EQ(working->call(working->builder().op(OP_PUTROOTFH)).status, NFS4_OK);
  // Idle connections bound to no session are closed after the idle timeout.
  rest("PATCH", "/api/v1/adapters/nfs/settings", {{"idle_timeout", 1}});
  ASSERT_TRUE(eventually([&] { return daemon().transport().connection_count() == 2; }, 15s));
  EXPECT_GT(metric("dittofs_nfs_connections_rejected_total{reason=\"idle_timeout\"}"), 0);
  EXPECT_EQ(working->call(working->builder().op(OP_PUTROOTFH)).status, NFS4_OK);
  for (int fd : fds)
    ::close(fd);
}

TEST_F(TrunkingTest, DrainAnswersWhatWasSentThenClosesAndTheClientGoesOn) {
  auto base = client();
  auto second = join(*base);
  ASSERT_EQ(bind(*second, base->sessionid, CDFC4_FORE).status, NFS4_OK);
  uint64_t second_id = 0;
  for (const auto& c : rest("GET", "/api/v1/connections")) {
    if (c["id"].get<uint64_t>() > second_id) second_id = c["id"].get<uint64_t>();
  }
  // Several requests in flight on the second connection, then the drain.
  std::vector<uint32_t> xids;
  for (uint32_t slot = 1; slot <= 4; ++slot) {
    CompoundBuilder b(1);
    b.op(OP_SEQUENCE, second->next_sequence(slot)).op(OP_PUTROOTFH).op(OP_GETFH);
    xids.push_back(second->send(b));
  }
  const double drained = metric("dittofs_nfs_connections_unbind_total{reason=\"drain\"}");
  auto d =
      rest("POST", "/api/v1/connections/" + std::to_string(second_id) + "/drain", nullptr, 202);
  EXPECT_EQ(d["id"], second_id);
  for (uint32_t xid : xids) {
    auto r = second->wait(xid);
    EXPECT_EQ(r.status, NFS4_OK);
  }
  EXPECT_TRUE(second->rpc().wait_closed());
  ASSERT_TRUE(eventually([&] { return bound_connections(*base) == 1; }, 10s));
  EXPECT_EQ(metric("dittofs_nfs_connections_unbind_total{reason=\"drain\"}"), drained + 1);
  EXPECT_EQ(base->call(base->builder().op(OP_PUTROOTFH)).status, NFS4_OK);

  // Draining a whole client closes all its connections; its session and client id stay, and
  // a new connection carries on with them.
  auto dc = rest("POST", "/api/v1/clients/" + client_hex(base->clientid) + "/drain", nullptr, 202);
  EXPECT_EQ(dc["draining"].size(), 1u);
  EXPECT_TRUE(base->rpc().wait_closed());
  auto again = join(*base);
  EXPECT_EQ(again->call(again->builder().op(OP_PUTROOTFH), 6).status, NFS4_OK);
  EXPECT_EQ(rest("GET", "/api/v1/connections/999999", nullptr, 404)["status"], 404);
}

TEST_F(TrunkingTest, OneServerOwnerOnEveryAddressAndAcrossRestarts) {
  listen_ = {"127.0.0.1", "127.0.0.2", "::1"};
  start(server::Config{});
  // The same client (owner and verifier) asks over each address.
  const auto args = exchange_args("trunk-owner", verifier_of(7));
  auto ask = [&](const std::string& host) {
    NfsClient c(host, port());
    auto r = exchange_id(c, args);
    EXPECT_EQ(r.status, NFS4_OK) << host;
    return r.ok;
  };
  auto a = ask("127.0.0.1");
  // Confirmed by its first session (an unconfirmed record would be replaced, §18.35.5).
  NfsClient first("127.0.0.1", port());
  auto cs = create_session(first, session_args(a.clientid, a.sequenceid));
  ASSERT_EQ(cs.status, NFS4_OK);
  adopt_session(first, a.clientid, cs.ok);
  ASSERT_EQ(first.call(first.builder().op(OP_RECLAIM_COMPLETE, ReclaimCompleteArgs{false})).status,
            NFS4_OK);
  for (const char* host : {"127.0.0.2", "::1"}) {
    auto x = ask(host);
    EXPECT_EQ(x.server_owner.major_id, a.server_owner.major_id) << host;
    EXPECT_EQ(x.server_owner.minor_id, a.server_owner.minor_id) << host;
    EXPECT_EQ(x.server_scope, a.server_scope) << host;
    EXPECT_EQ(x.clientid, a.clientid) << host;  // client id trunking: one client id
    EXPECT_TRUE(x.flags & EXCHGID4_FLAG_CONFIRMED_R) << host;
  }
  // Session trunking: the session made over one address is used over the others.
  uint32_t slot = 1;
  std::vector<std::unique_ptr<NfsClient>> others;
  for (const char* host : {"127.0.0.2", "::1"}) {
    others.push_back(std::make_unique<NfsClient>(host, port()));
    adopt_session(*others.back(), a.clientid, cs.ok);
    EXPECT_EQ(others.back()->call(others.back()->builder().op(OP_PUTROOTFH), slot++).status,
              NFS4_OK)
        << host;
  }
  EXPECT_EQ(bound_connections(first), 3u);
  others.clear();
  const auto owner = a.server_owner.major_id;
  // The same data directory is the same server after a restart...
  start(server::Config{});
  EXPECT_EQ(ask("127.0.0.1").server_owner.major_id, owner);
  EXPECT_EQ(ask("127.0.0.1").server_scope, owner);
  // ...and another data directory is another server on the same host.
  const std::string first_dir = data_dir_;
  char tmpl[] = "/tmp/dfs-test.XXXXXX";
  data_dir_ = ::mkdtemp(tmpl);
  start(server::Config{});
  EXPECT_NE(ask("127.0.0.1").server_owner.major_id, owner);
  EXPECT_NE(ask("127.0.0.1").server_scope, owner);
  std::filesystem::remove_all(first_dir);
}

}  // namespace
}  // namespace dfs::testing
