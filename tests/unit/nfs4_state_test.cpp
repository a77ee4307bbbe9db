// The NFSv4.1 state manager driven directly (no wire, no compound): client ids (RFC 5661
// §18.35), sessions and their slot tables (§18.36, §18.46, §2.10.6), share reservations
// (§9.7), byte-range locks (§9.1, §18.10-§18.12), stateids (§8.2) and leases (§8.3).

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "nfs4/state/state_manager.h"
#include "rpc/reactor.h"

namespace dfs::nfs4::state {
namespace {

using namespace std::chrono_literals;

constexpr FileKey kF1{1, 100};
constexpr FileKey kF2{1, 200};
constexpr FileKey kF3{2, 100};

constexpr uint32_t kRead = OPEN4_SHARE_ACCESS_READ;
constexpr uint32_t kWrite = OPEN4_SHARE_ACCESS_WRITE;
constexpr uint32_t kBoth = OPEN4_SHARE_ACCESS_BOTH;
constexpr uint32_t kDenyNone = OPEN4_SHARE_DENY_NONE;
constexpr uint32_t kDenyRead = OPEN4_SHARE_DENY_READ;
constexpr uint32_t kDenyWrite = OPEN4_SHARE_DENY_WRITE;
constexpr uint32_t kDenyBoth = OPEN4_SHARE_DENY_BOTH;

Verifier verf(uint8_t v) {
  Verifier x{};
  x.fill(v);
  return x;
}

Principal principal(uint32_t uid) {
  return {rpc::AuthFlavor::kSys, uid};
}

ChannelAttrs chan(uint32_t maxrequests) {
  ChannelAttrs a;
  a.maxrequestsize = 1u << 20;
  a.maxresponsesize = 1u << 20;
  a.maxresponsesize_cached = 64u << 10;
  a.maxoperations = 16;
  a.maxrequests = maxrequests;
  return a;
}

std::shared_ptr<rpc::Connection> make_conn(uint64_t id) {
  // Never sent on nor closed: a Connection needs no socket or reactor until then.
  return std::make_shared<rpc::Connection>(id, -1, "peer-" + std::to_string(id), nullptr);
}

// Polls `f` until it holds or a generous deadline passes.
template <class F>
bool eventually(F f, std::chrono::seconds limit = 20s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return f();
}

Stateid special(uint32_t seqid, uint8_t fill) {
  Stateid s;
  s.seqid = seqid;
  s.other.fill(fill);
  return s;
}

struct TestClient {
  uint64_t id = 0;
  SessionId sid{};
  std::shared_ptr<Session> session;
  ClientRecord* rec = nullptr;
  Principal who;
};

class StateTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kSlots = 8;

  StateTest() : sm_(settings_) {
    sm_.set_file_open_hook(
        [this](const FileKey& f, bool opened) { hook_.emplace_back(f, opened); });
  }

  ExchangeIdArgs eid_args(const std::string& owner, uint8_t v, uint32_t flags = 0) {
    ExchangeIdArgs a;
    a.clientowner.verifier = verf(v);
    a.clientowner.ownerid.assign(owner.begin(), owner.end());
    a.flags = flags;
    return a;
  }
  nfsstat4 exchange(const std::string& owner, uint8_t v, uint32_t uid, ExchangeIdOk& out,
                    uint32_t flags = 0) {
    return sm_.exchange_id(eid_args(owner, v, flags), principal(uid), "10.0.0.1:700", 1, out);
  }
  CreateSessionArgs cs_args(uint64_t clientid, uint32_t seq) {
    CreateSessionArgs a;
    a.clientid = clientid;
    a.sequence = seq;
    a.fore = chan(kSlots);
    a.back = chan(1);
    a.cb_program = 0x40000000;
    return a;
  }
  SequenceArgs seq_args(const SessionId& sid, uint32_t slot, uint32_t seqid, bool cache = false) {
    SequenceArgs a;
    a.sessionid = sid;
    a.slotid = slot;
    a.sequenceid = seqid;
    a.highest_slotid = kSlots - 1;
    a.cachethis = cache;
    return a;
  }
  SequenceOutcome seq(const SessionId& sid, uint32_t slot, uint32_t seqid, uint64_t digest = 1,
                      bool cache = false, std::shared_ptr<rpc::Connection> conn = nullptr,
                      SequenceOk* ok_out = nullptr) {
    SequenceOk ok;
    auto r = sm_.sequence(seq_args(sid, slot, seqid, cache), digest, conn ? conn : conn_, 200, 3,
                          100, ok);
    if (ok_out) *ok_out = ok;
    return r;
  }

  // EXCHANGE_ID + CREATE_SESSION, and (through SEQUENCE on the last slot) the session and
  // client record the ops would see; RECLAIM_COMPLETE unless told otherwise.
  TestClient new_client(const std::string& owner, uint32_t uid = 1000, uint8_t v = 1,
                        bool reclaim_complete = true) {
    TestClient c;
    c.who = principal(uid);
    ExchangeIdOk eo;
    EXPECT_EQ(exchange(owner, v, uid, eo), NFS4_OK);
    CreateSessionOk co;
    EXPECT_EQ(sm_.create_session(cs_args(eo.clientid, eo.sequenceid), c.who, conn_, co), NFS4_OK);
    c.id = eo.clientid;
    c.sid = co.sessionid;
    auto r = seq(c.sid, kSlots - 1, 1);
    EXPECT_EQ(r.status, NFS4_OK);
    c.session = r.session;
    if (r.session) {
      sm_.finish_request(*r.session, kSlots - 1, false, {});
      c.rec = r.session->client.get();
      if (reclaim_complete) {
        EXPECT_EQ(sm_.reclaim_complete(*c.rec, false), NFS4_OK);
      }
    }
    return c;
  }

  nfsstat4 open(TestClient& c, const std::string& owner, const FileKey& f, uint32_t access,
                uint32_t deny, Stateid& out) {
    auto lock = sm_.lock_file(f);
    return sm_.open_locked(*c.rec, OwnerKey{c.id, owner}, f, access, deny, out);
  }
  Stateid must_open(TestClient& c, const std::string& owner, const FileKey& f, uint32_t access,
                    uint32_t deny = kDenyNone) {
    Stateid s;
    EXPECT_EQ(open(c, owner, f, access, deny, s), NFS4_OK);
    return s;
  }
  nfsstat4 close(TestClient& c, const Stateid& s, const FileKey& f) {
    Stateid out;
    return sm_.close(*c.rec, s, f, out);
  }
  nfsstat4 check_share(const FileKey& f, const OwnerKey& o, uint32_t access, uint32_t deny) {
    auto lock = sm_.lock_file(f);
    return sm_.check_share_locked(f, o, access, deny);
  }

  static LockArgs new_lock(nfs_lock_type4 t, uint64_t off, uint64_t len, const Stateid& open,
                           const std::string& owner) {
    LockArgs a;
    a.locktype = t;
    a.offset = off;
    a.length = len;
    a.locker.new_lock_owner = true;
    a.locker.open_stateid = open;
    a.locker.lock_owner.clientid = 0xBADBAD;  // must be ignored (§18.10.3)
    a.locker.lock_owner.owner.assign(owner.begin(), owner.end());
    return a;
  }
  static LockArgs more_lock(nfs_lock_type4 t, uint64_t off, uint64_t len, const Stateid& lock) {
    LockArgs a;
    a.locktype = t;
    a.offset = off;
    a.length = len;
    a.locker.new_lock_owner = false;
    a.locker.lock_stateid = lock;
    return a;
  }
  static LocktArgs test_args(nfs_lock_type4 t, uint64_t off, uint64_t len,
                             const std::string& owner) {
    LocktArgs a;
    a.locktype = t;
    a.offset = off;
    a.length = len;
    a.owner.clientid = 0xBADBAD;
    a.owner.owner.assign(owner.begin(), owner.end());
    return a;
  }
  static LockuArgs unlock_args(const Stateid& s, uint64_t off, uint64_t len) {
    LockuArgs a;
    a.locktype = WRITE_LT;
    a.stateid = s;
    a.offset = off;
    a.length = len;
    return a;
  }
  Stateid must_lock(TestClient& c, const LockArgs& a, const FileKey& f) {
    LockResult r;
    EXPECT_EQ(sm_.lock(*c.rec, a, f, r), NFS4_OK);
    return r.stateid;
  }
  nfsstat4 lockt(TestClient& c, const LocktArgs& a, const FileKey& f,
                 LockDenied* denied = nullptr) {
    LocktResult r;
    auto st = sm_.lockt(*c.rec, a, f, r);
    if (denied) *denied = r.denied;
    return st;
  }

  SettingsHolder settings_;
  StateManager sm_;
  std::shared_ptr<rpc::Connection> conn_ = make_conn(1);
  std::vector<std::pair<FileKey, bool>> hook_;
};

// ---- EXCHANGE_ID (§18.35.5) ------------------------------------------------------------------

TEST_F(StateTest, ExchangeIdCase1NewOwnerIsUnconfirmed) {
  auto args = eid_args("owner-a", 1);
  args.client_impl_id.push_back(ImplId{"kernel.org", "Linux 6.1", {}});
  ExchangeIdOk out;
  ASSERT_EQ(sm_.exchange_id(args, principal(1000), "10.0.0.1:700", 1, out), NFS4_OK);
  EXPECT_NE(out.clientid, 0u);
  EXPECT_EQ(out.sequenceid, 1u);
  EXPECT_TRUE(out.flags & EXCHGID4_FLAG_USE_NON_PNFS);
  EXPECT_FALSE(out.flags & EXCHGID4_FLAG_CONFIRMED_R);
  EXPECT_EQ(out.state_protect.how, SP4_NONE);
  auto c = sm_.client(out.clientid);
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(c->confirmed);
  EXPECT_EQ(c->owner, "owner-a");
  EXPECT_EQ(c->peer, "10.0.0.1:700");
  EXPECT_EQ(c->impl_name, "Linux 6.1");
  EXPECT_EQ(sm_.client_count(), 1u);
}

TEST_F(StateTest, ExchangeIdRefusesBadArguments) {
  ExchangeIdOk out;
  EXPECT_EQ(exchange("a", 1, 1000, out, 0x00000004), NFS4ERR_INVAL);  // undefined flag
  EXPECT_EQ(exchange("a", 1, 1000, out, EXCHGID4_FLAG_CONFIRMED_R), NFS4ERR_INVAL);  // result-only
  EXPECT_EQ(exchange("", 1, 1000, out), NFS4ERR_INVAL);
  auto ssv = eid_args("a", 1);
  ssv.state_protect.how = SP4_SSV;
  EXPECT_EQ(sm_.exchange_id(ssv, principal(1000), "p", 1, out), NFS4ERR_ENCR_ALG_UNSUPP);
  EXPECT_EQ(sm_.client_count(), 0u);

  auto mach = eid_args("a", 1);
  mach.state_protect.how = SP4_MACH_CRED;
  ASSERT_EQ(sm_.exchange_id(mach, principal(1000), "p", 1, out), NFS4_OK);
  EXPECT_EQ(out.state_protect.how, SP4_MACH_CRED);
}

TEST_F(StateTest, ExchangeIdCase2SameClientAgainGetsTheConfirmedRecord) {
  auto a = new_client("a");
  ExchangeIdOk out;
  ASSERT_EQ(exchange("a", 1, 1000, out), NFS4_OK);
  EXPECT_EQ(out.clientid, a.id);
  EXPECT_TRUE(out.flags & EXCHGID4_FLAG_CONFIRMED_R);
  EXPECT_EQ(out.sequenceid, 2u);  // one CREATE_SESSION done
  EXPECT_EQ(sm_.client_count(), 1u);
  EXPECT_EQ(sm_.session_count(), 1u);
}

TEST_F(StateTest, ExchangeIdCase3CollisionWithStateIsClidInUse) {
  auto a = new_client("a", 1000);
  ExchangeIdOk out;
  EXPECT_EQ(exchange("a", 1, 2000, out), NFS4ERR_CLID_INUSE);
  EXPECT_EQ(exchange("a", 9, 2000, out), NFS4ERR_CLID_INUSE);
  auto c = sm_.client(a.id);
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->confirmed);
  EXPECT_EQ(sm_.client_count(), 1u);
  EXPECT_EQ(sm_.session_count(), 1u);
}

TEST_F(StateTest, ExchangeIdCase3CollisionWithoutStateReplacesTheRecord) {
  auto a = new_client("a", 1000);
  ASSERT_EQ(sm_.destroy_session(a.sid, principal(1000), conn_, nullptr), NFS4_OK);
  ExchangeIdOk out;
  ASSERT_EQ(exchange("a", 1, 2000, out), NFS4_OK);
  EXPECT_NE(out.clientid, a.id);
  EXPECT_FALSE(out.flags & EXCHGID4_FLAG_CONFIRMED_R);
  EXPECT_FALSE(sm_.client(a.id).has_value());
  EXPECT_EQ(sm_.client_count(), 1u);
}

TEST_F(StateTest, ExchangeIdCase3CollisionWithExpiredLeaseReplacesTheRecord) {
  // "or if there is state but the lease has expired" (§18.35.5 case 3).
  Settings s;
  s.lease_time = 1;
  settings_.set(s);
  auto a = new_client("a", 1000);
  must_open(a, "oa", kF1, kBoth, kDenyBoth);
  ExchangeIdOk out;
  ASSERT_EQ(exchange("a", 1, 2000, out), NFS4ERR_CLID_INUSE);  // the lease is still running
  ASSERT_TRUE(eventually([&] { return exchange("a", 1, 2000, out) == NFS4_OK; }));
  EXPECT_NE(out.clientid, a.id);
  EXPECT_FALSE(sm_.client(a.id).has_value());
  EXPECT_EQ(sm_.open_count(), 0u);
  EXPECT_EQ(sm_.session_count(), 0u);
}

TEST_F(StateTest, ExchangeIdCase4ReplacesTheUnconfirmedRecord) {
  ExchangeIdOk first, second;
  ASSERT_EQ(exchange("a", 1, 1000, first), NFS4_OK);
  ASSERT_EQ(exchange("a", 2, 3000, second), NFS4_OK);  // any verifier, any principal
  EXPECT_NE(first.clientid, second.clientid);
  EXPECT_FALSE(sm_.client(first.clientid).has_value());
  EXPECT_EQ(sm_.client_count(), 1u);
  CreateSessionOk co;
  EXPECT_EQ(sm_.create_session(cs_args(first.clientid, 1), principal(1000), conn_, co),
            NFS4ERR_STALE_CLIENTID);
  EXPECT_EQ(sm_.create_session(cs_args(second.clientid, 1), principal(3000), conn_, co), NFS4_OK);
}

TEST_F(StateTest, ExchangeIdCase5ClientRestartIsCompletedByCreateSession) {
  auto a = new_client("a", 1000, 1);
  must_open(a, "oo", kF1, kBoth, kDenyWrite);
  ExchangeIdOk out;
  ASSERT_EQ(exchange("a", 2, 1000, out), NFS4_OK);
  EXPECT_NE(out.clientid, a.id);
  EXPECT_FALSE(out.flags & EXCHGID4_FLAG_CONFIRMED_R);
  // The old incarnation keeps everything until the new one is confirmed.
  ASSERT_TRUE(sm_.client(a.id).has_value());
  EXPECT_TRUE(sm_.client(a.id)->confirmed);
  EXPECT_EQ(sm_.open_count(), 1u);
  EXPECT_EQ(sm_.client_count(), 2u);

  CreateSessionOk co;
  ASSERT_EQ(sm_.create_session(cs_args(out.clientid, out.sequenceid), principal(1000), conn_, co),
            NFS4_OK);
  EXPECT_FALSE(sm_.client(a.id).has_value());
  EXPECT_EQ(sm_.open_count(), 0u);
  EXPECT_EQ(seq(a.sid, 0, 1).status, NFS4ERR_BADSESSION);
  ASSERT_TRUE(sm_.client(out.clientid).has_value());
  EXPECT_TRUE(sm_.client(out.clientid)->confirmed);
  EXPECT_EQ(sm_.client_count(), 1u);
  EXPECT_EQ(sm_.session_count(), 1u);
  ASSERT_EQ(hook_.size(), 2u);
  EXPECT_EQ(hook_.back(), std::make_pair(kF1, false));
}

TEST_F(StateTest, ExchangeIdCase6UpdateOfTheConfirmedRecord) {
  auto a = new_client("a");
  ExchangeIdOk out;
  ASSERT_EQ(exchange("a", 1, 1000, out, EXCHGID4_FLAG_UPD_CONFIRMED_REC_A), NFS4_OK);
  EXPECT_EQ(out.clientid, a.id);
  EXPECT_TRUE(out.flags & EXCHGID4_FLAG_CONFIRMED_R);
  EXPECT_EQ(sm_.client_count(), 1u);
}

TEST_F(StateTest, ExchangeIdCase7UpdateWithoutConfirmedRecordIsNoent) {
  ExchangeIdOk unconf, out;
  ASSERT_EQ(exchange("b", 1, 1000, unconf), NFS4_OK);
  EXPECT_EQ(exchange("b", 1, 1000, out, EXCHGID4_FLAG_UPD_CONFIRMED_REC_A), NFS4ERR_NOENT);
  EXPECT_EQ(exchange("nobody-knows", 1, 1000, out, EXCHGID4_FLAG_UPD_CONFIRMED_REC_A),
            NFS4ERR_NOENT);
  // The unconfirmed record is left intact.
  ASSERT_TRUE(sm_.client(unconf.clientid).has_value());
  CreateSessionOk co;
  EXPECT_EQ(sm_.create_session(cs_args(unconf.clientid, 1), principal(1000), conn_, co), NFS4_OK);
}

TEST_F(StateTest, ExchangeIdCase8UpdateWithWrongVerifierIsNotSame) {
  auto a = new_client("a", 1000, 1);
  ExchangeIdOk out;
  EXPECT_EQ(exchange("a", 2, 1000, out, EXCHGID4_FLAG_UPD_CONFIRMED_REC_A), NFS4ERR_NOT_SAME);
  // Case 8 matches any principal: { ownerid_arg, old_verifier_arg, *, clientid_ret, confirmed }.
  EXPECT_EQ(exchange("a", 2, 2000, out, EXCHGID4_FLAG_UPD_CONFIRMED_REC_A), NFS4ERR_NOT_SAME);
  ASSERT_TRUE(sm_.client(a.id).has_value());
  EXPECT_TRUE(sm_.client(a.id)->confirmed);
  EXPECT_EQ(sm_.client_count(), 1u);
  EXPECT_EQ(sm_.session_count(), 1u);
}

TEST_F(StateTest, ExchangeIdCase9UpdateByAnotherPrincipalIsPerm) {
  auto a = new_client("a", 1000, 1);
  ExchangeIdOk out;
  EXPECT_EQ(exchange("a", 1, 2000, out, EXCHGID4_FLAG_UPD_CONFIRMED_REC_A), NFS4ERR_PERM);
  ASSERT_TRUE(sm_.client(a.id).has_value());
  EXPECT_EQ(sm_.client_count(), 1u);
}

// ---- CREATE_SESSION (§18.36) -----------------------------------------------------------------

TEST_F(StateTest, CreateSessionUnknownClientIsStale) {
  CreateSessionOk co;
  EXPECT_EQ(sm_.create_session(cs_args(0x1234, 1), principal(1000), conn_, co),
            NFS4ERR_STALE_CLIENTID);
}

TEST_F(StateTest, CreateSessionByAnotherPrincipalIsClidInUse) {
  ExchangeIdOk eo;
  ASSERT_EQ(exchange("a", 1, 1000, eo), NFS4_OK);
  CreateSessionOk co;
  EXPECT_EQ(sm_.create_session(cs_args(eo.clientid, 1), principal(2000), conn_, co),
            NFS4ERR_CLID_INUSE);
  EXPECT_FALSE(sm_.client(eo.clientid)->confirmed);
  EXPECT_EQ(sm_.create_session(cs_args(eo.clientid, 1), principal(1000), conn_, co), NFS4_OK);
  EXPECT_TRUE(sm_.client(eo.clientid)->confirmed);
}

TEST_F(StateTest, CreateSessionSequenceReplayAndMisordered) {
  ExchangeIdOk eo;
  ASSERT_EQ(exchange("a", 1, 1000, eo), NFS4_OK);
  ASSERT_EQ(eo.sequenceid, 1u);
  auto who = principal(1000);
  CreateSessionOk co;
  EXPECT_EQ(sm_.create_session(cs_args(eo.clientid, 2), who, conn_, co), NFS4ERR_SEQ_MISORDERED);
  // eir_sequenceid - 1 holds a contrived SEQ_MISORDERED result (§18.36.4).
  EXPECT_EQ(sm_.create_session(cs_args(eo.clientid, 0), who, conn_, co), NFS4ERR_SEQ_MISORDERED);
  EXPECT_EQ(sm_.client_count(), 1u);
  EXPECT_FALSE(sm_.client(eo.clientid)->confirmed);

  CreateSessionOk first;
  ASSERT_EQ(sm_.create_session(cs_args(eo.clientid, 1), who, conn_, first), NFS4_OK);
  EXPECT_EQ(first.sequence, 1u);
  // A retry gets the same reply, and no new session.
  CreateSessionOk replay;
  ASSERT_EQ(sm_.create_session(cs_args(eo.clientid, 1), who, conn_, replay), NFS4_OK);
  EXPECT_EQ(replay.sessionid, first.sessionid);
  EXPECT_EQ(replay.sequence, 1u);
  EXPECT_EQ(sm_.session_count(), 1u);

  EXPECT_EQ(sm_.create_session(cs_args(eo.clientid, 3), who, conn_, co), NFS4ERR_SEQ_MISORDERED);
  CreateSessionOk second;
  ASSERT_EQ(sm_.create_session(cs_args(eo.clientid, 2), who, conn_, second), NFS4_OK);
  EXPECT_NE(second.sessionid, first.sessionid);
  EXPECT_EQ(sm_.session_count(), 2u);
  CreateSessionOk replay2;
  ASSERT_EQ(sm_.create_session(cs_args(eo.clientid, 2), who, conn_, replay2), NFS4_OK);
  EXPECT_EQ(replay2.sessionid, second.sessionid);
  // Two behind is neither a retry nor the next one.
  EXPECT_EQ(sm_.create_session(cs_args(eo.clientid, 1), who, conn_, co), NFS4ERR_SEQ_MISORDERED);
  EXPECT_EQ(sm_.session_count(), 2u);
}

TEST_F(StateTest, CreateSessionNegotiatesChannelAttributes) {
  Settings s;
  s.max_record_size = 1u << 20;
  s.max_compound_ops = 8;
  s.v4_max_session_slots = 4;
  settings_.set(s);
  ExchangeIdOk eo;
  ASSERT_EQ(exchange("a", 1, 1000, eo), NFS4_OK);
  auto args = cs_args(eo.clientid, 1);
  args.flags = CREATE_SESSION4_FLAG_PERSIST | CREATE_SESSION4_FLAG_CONN_BACK_CHAN |
               CREATE_SESSION4_FLAG_CONN_RDMA;
  args.fore.headerpadsize = 64;
  args.fore.maxrequestsize = 2u << 20;
  args.fore.maxresponsesize = 3u << 20;
  args.fore.maxresponsesize_cached = 2u << 20;
  args.fore.maxoperations = 100;
  args.fore.maxrequests = 100;
  args.back.headerpadsize = 16;
  args.back.maxrequestsize = 4096;
  args.back.maxresponsesize = 8192;
  args.back.maxresponsesize_cached = 0;
  args.back.maxoperations = 2;
  args.back.maxrequests = 32;
  CreateSessionOk co;
  ASSERT_EQ(sm_.create_session(args, principal(1000), conn_, co), NFS4_OK);
  // Fore channel: capped by the settings, never increased.
  EXPECT_EQ(co.fore.headerpadsize, 0u);
  EXPECT_EQ(co.fore.maxrequestsize, 1u << 20);
  EXPECT_EQ(co.fore.maxresponsesize, 1u << 20);
  EXPECT_EQ(co.fore.maxresponsesize_cached, 1u << 20);
  EXPECT_EQ(co.fore.maxoperations, 8u);
  EXPECT_EQ(co.fore.maxrequests, 4u);
  // Back channel: ca_maxoperations and ca_maxrequests MUST NOT change (§18.36.3); the
  // sizes may only decrease.
  EXPECT_EQ(co.back.headerpadsize, 0u);
  EXPECT_LE(co.back.maxrequestsize, 4096u);
  EXPECT_LE(co.back.maxresponsesize, 8192u);
  EXPECT_EQ(co.back.maxoperations, 2u);
  EXPECT_EQ(co.back.maxrequests, 32u);
  // Neither persistence nor RDMA is offered; the back channel is.
  EXPECT_EQ(co.flags, CREATE_SESSION4_FLAG_CONN_BACK_CHAN);
  // The slot table has the negotiated size.
  EXPECT_EQ(seq(co.sessionid, 4, 1).status, NFS4ERR_BADSLOT);
  EXPECT_EQ(seq(co.sessionid, 3, 1).status, NFS4_OK);

  // Smaller offers are kept as they are.
  ExchangeIdOk eo2;
  ASSERT_EQ(exchange("b", 1, 1000, eo2), NFS4_OK);
  auto small = cs_args(eo2.clientid, 1);
  small.fore.maxrequestsize = 512;
  small.fore.maxresponsesize = 600;
  small.fore.maxresponsesize_cached = 300;
  small.fore.maxoperations = 3;
  small.fore.maxrequests = 2;
  CreateSessionOk co2;
  ASSERT_EQ(sm_.create_session(small, principal(1000), conn_, co2), NFS4_OK);
  EXPECT_EQ(co2.fore.maxrequestsize, 512u);
  EXPECT_EQ(co2.fore.maxresponsesize, 600u);
  EXPECT_EQ(co2.fore.maxresponsesize_cached, 300u);
  EXPECT_EQ(co2.fore.maxoperations, 3u);
  EXPECT_EQ(co2.fore.maxrequests, 2u);
  EXPECT_EQ(co2.flags, 0u);
}

TEST_F(StateTest, CreateSessionRefusesUnusableAttributes) {
  ExchangeIdOk eo;
  ASSERT_EQ(exchange("a", 1, 1000, eo), NFS4_OK);
  auto who = principal(1000);
  CreateSessionOk co;
  auto bad_flag = cs_args(eo.clientid, 1);
  bad_flag.flags = 0x8;
  EXPECT_EQ(sm_.create_session(bad_flag, who, conn_, co), NFS4ERR_INVAL);
  auto no_slots = cs_args(eo.clientid, 1);
  no_slots.fore.maxrequests = 0;
  EXPECT_EQ(sm_.create_session(no_slots, who, conn_, co), NFS4ERR_INVAL);
  auto tiny = cs_args(eo.clientid, 1);
  tiny.fore.maxresponsesize = 16;
  EXPECT_EQ(sm_.create_session(tiny, who, conn_, co), NFS4ERR_TOOSMALL);
  auto ird = cs_args(eo.clientid, 1);
  ird.fore.rdma_ird = {1, 2};  // rdma_ird<1>
  EXPECT_EQ(sm_.create_session(ird, who, conn_, co), NFS4ERR_BADXDR);
  EXPECT_EQ(sm_.session_count(), 0u);
  EXPECT_FALSE(sm_.client(eo.clientid)->confirmed);
  // The client can correct itself.
  EXPECT_EQ(sm_.create_session(cs_args(eo.clientid, 1), who, conn_, co), NFS4_OK);
}

TEST_F(StateTest, CreateSessionLimitPerClientIsNoSpc) {
  Settings s;
  s.v4_max_sessions_per_client = 2;
  settings_.set(s);
  ExchangeIdOk eo;
  ASSERT_EQ(exchange("a", 1, 1000, eo), NFS4_OK);
  CreateSessionOk co;
  ASSERT_EQ(sm_.create_session(cs_args(eo.clientid, 1), principal(1000), conn_, co), NFS4_OK);
  ASSERT_EQ(sm_.create_session(cs_args(eo.clientid, 2), principal(1000), conn_, co), NFS4_OK);
  EXPECT_EQ(sm_.create_session(cs_args(eo.clientid, 3), principal(1000), conn_, co), NFS4ERR_NOSPC);
  EXPECT_EQ(sm_.session_count(), 2u);
}

// ---- DESTROY_SESSION, DESTROY_CLIENTID, BIND_CONN_TO_SESSION, RECLAIM_COMPLETE -------------

TEST_F(StateTest, DestroySession) {
  auto a = new_client("a");
  SessionId unknown{};
  unknown.fill(0x77);
  EXPECT_EQ(sm_.destroy_session(unknown, principal(1000), conn_, nullptr), NFS4ERR_BADSESSION);
  // Without SEQUENCE it must arrive on a connection bound to the session (§18.37.3).
  auto other = make_conn(2);
  EXPECT_EQ(sm_.destroy_session(a.sid, principal(1000), other, nullptr),
            NFS4ERR_CONN_NOT_BOUND_TO_SESSION);

  // A request in progress on the session makes it wait...
  ASSERT_EQ(seq(a.sid, 0, 1).status, NFS4_OK);
  EXPECT_EQ(sm_.destroy_session(a.sid, principal(1000), conn_, nullptr), NFS4ERR_DELAY);
  // ...unless it is the request carrying the DESTROY_SESSION.
  // ...even inside a COMPOUND of the session the connection must be bound to it (§18.37.3):
  // otherwise anyone's COMPOUND could destroy anyone's session.
  EXPECT_EQ(sm_.destroy_session(a.sid, a.who, other, a.session.get()),
            NFS4ERR_CONN_NOT_BOUND_TO_SESSION);
  ASSERT_EQ(sm_.destroy_session(a.sid, a.who, conn_, a.session.get()), NFS4_OK);
  EXPECT_EQ(sm_.session_count(), 0u);
  EXPECT_EQ(seq(a.sid, 1, 1).status, NFS4ERR_BADSESSION);
  EXPECT_EQ(sm_.destroy_session(a.sid, principal(1000), conn_, nullptr), NFS4ERR_BADSESSION);
  EXPECT_TRUE(sm_.client(a.id).has_value());  // the client id lives on
}

TEST_F(StateTest, DestroyClientId) {
  EXPECT_EQ(sm_.destroy_clientid(0x42, principal(1000), nullptr), NFS4ERR_STALE_CLIENTID);
  auto a = new_client("a");
  EXPECT_EQ(sm_.destroy_clientid(a.id, principal(1000), nullptr), NFS4ERR_CLIENTID_BUSY);
  EXPECT_EQ(sm_.destroy_clientid(a.id, principal(1000), a.session.get()), NFS4ERR_CLIENTID_BUSY);
  ASSERT_EQ(sm_.destroy_session(a.sid, principal(1000), conn_, nullptr), NFS4_OK);
  ASSERT_EQ(sm_.destroy_clientid(a.id, principal(1000), nullptr), NFS4_OK);
  EXPECT_EQ(sm_.client_count(), 0u);
  EXPECT_EQ(sm_.destroy_clientid(a.id, principal(1000), nullptr), NFS4ERR_STALE_CLIENTID);

  ExchangeIdOk unconf;
  ASSERT_EQ(exchange("b", 1, 1000, unconf), NFS4_OK);
  EXPECT_EQ(sm_.destroy_clientid(unconf.clientid, principal(1000), nullptr), NFS4_OK);
  EXPECT_EQ(sm_.client_count(), 0u);
}

TEST_F(StateTest, BindConnectionToSession) {
  auto a = new_client("a");
  auto c2 = make_conn(2), c3 = make_conn(3), c4 = make_conn(4);
  BindConnArgs args;
  BindConnOk out;
  args.sessionid.fill(0x55);
  EXPECT_EQ(sm_.bind_connection(args, principal(1000), c2, out), NFS4ERR_BADSESSION);
  args.sessionid = a.sid;
  args.dir = CDFC4_BACK;
  ASSERT_EQ(sm_.bind_connection(args, principal(1000), c2, out), NFS4_OK);
  EXPECT_EQ(out.dir, CDFS4_BACK);
  EXPECT_EQ(out.sessionid, a.sid);
  EXPECT_FALSE(out.use_conn_in_rdma_mode);
  args.dir = CDFC4_FORE_OR_BOTH;
  ASSERT_EQ(sm_.bind_connection(args, principal(1000), c3, out), NFS4_OK);
  EXPECT_EQ(out.dir, CDFS4_BOTH);
  args.dir = static_cast<channel_dir_from_client4>(0x10);
  EXPECT_EQ(sm_.bind_connection(args, principal(1000), c4, out), NFS4ERR_INVAL);

  auto sessions = sm_.sessions(a.id);
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].fore_connections, 2u);  // conn_ and c3
  EXPECT_EQ(sessions[0].back_connections, 2u);  // c2 and c3
  sm_.connection_closed(c2->id());
  sm_.connection_closed(c3->id());
  sessions = sm_.sessions(a.id);
  EXPECT_EQ(sessions[0].fore_connections, 1u);
  EXPECT_EQ(sessions[0].back_connections, 0u);
}

TEST_F(StateTest, ReclaimCompleteOnlyOnce) {
  auto a = new_client("a", 1000, 1, false);
  EXPECT_EQ(sm_.reclaim_complete(*a.rec, true), NFS4_OK);  // per-fs: nothing tracked
  EXPECT_EQ(sm_.reclaim_complete(*a.rec, false), NFS4_OK);
  EXPECT_EQ(sm_.reclaim_complete(*a.rec, false), NFS4ERR_COMPLETE_ALREADY);
}

// ---- SEQUENCE and the slot table (§18.46, §2.10.6) --------------------------------------------

TEST_F(StateTest, SequenceNewRequest) {
  auto a = new_client("a");
  SequenceOk ok;
  auto r = seq(a.sid, 0, 1, 1, false, nullptr, &ok);
  ASSERT_EQ(r.status, NFS4_OK);
  EXPECT_FALSE(r.replay);
  ASSERT_TRUE(r.session);
  EXPECT_EQ(r.session->id, a.sid);
  EXPECT_EQ(ok.sessionid, a.sid);
  EXPECT_EQ(ok.sequenceid, 1u);
  EXPECT_EQ(ok.slotid, 0u);
  EXPECT_EQ(ok.highest_slotid, kSlots - 1);
  EXPECT_EQ(ok.target_highest_slotid, kSlots - 1);
  EXPECT_EQ(ok.status_flags, 0u);
  EXPECT_EQ(sm_.sessions(a.id)[0].slots_in_use, 1u);
  sm_.finish_request(*r.session, 0, false, {});
  EXPECT_EQ(sm_.sessions(a.id)[0].slots_in_use, 0u);
  EXPECT_EQ(seq(a.sid, 0, 2).status, NFS4_OK);
}

TEST_F(StateTest, SequenceReplayReturnsTheCachedReply) {
  auto a = new_client("a");
  auto r = seq(a.sid, 0, 1, 0xABC, true);
  ASSERT_EQ(r.status, NFS4_OK);
  const std::vector<uint8_t> reply = {1, 2, 3, 4, 5, 6, 7, 8};
  sm_.finish_request(*r.session, 0, true, reply);
  auto again = seq(a.sid, 0, 1, 0xABC, true);
  ASSERT_EQ(again.status, NFS4_OK);
  ASSERT_TRUE(again.replay);
  EXPECT_EQ(std::vector<uint8_t>(again.cached_reply.data(),
                                 again.cached_reply.data() + again.cached_reply.size()),
            reply);
  // A replay does not occupy the slot: the next request goes ahead.
  EXPECT_EQ(seq(a.sid, 0, 2).status, NFS4_OK);
}

TEST_F(StateTest, SequenceRetryWithOtherArgumentsIsFalseRetry) {
  auto a = new_client("a");
  auto r = seq(a.sid, 0, 1, 111, true);
  ASSERT_EQ(r.status, NFS4_OK);
  sm_.finish_request(*r.session, 0, true, std::vector<uint8_t>{9, 9, 9, 9});
  EXPECT_EQ(seq(a.sid, 0, 1, 222, true).status, NFS4ERR_SEQ_FALSE_RETRY);
  // The slot is unchanged: the true retry still replays.
  EXPECT_TRUE(seq(a.sid, 0, 1, 111, true).replay);
}

TEST_F(StateTest, SequenceRetryOfUncachedReply) {
  auto a = new_client("a");
  auto r = seq(a.sid, 0, 1, 5, false);
  ASSERT_EQ(r.status, NFS4_OK);
  sm_.finish_request(*r.session, 0, false, std::vector<uint8_t>{1, 2, 3, 4});
  EXPECT_EQ(seq(a.sid, 0, 1, 5, false).status, NFS4ERR_RETRY_UNCACHED_REP);
}

TEST_F(StateTest, SequenceRetryWhileInProgressIsDelay) {
  auto a = new_client("a");
  ASSERT_EQ(seq(a.sid, 0, 1, 5).status, NFS4_OK);
  EXPECT_EQ(seq(a.sid, 0, 1, 5).status, NFS4ERR_DELAY);
  // Other slots are independent.
  EXPECT_EQ(seq(a.sid, 1, 1, 6).status, NFS4_OK);
}

TEST_F(StateTest, SequenceMisordered) {
  auto a = new_client("a");
  // The first request on a slot must have sequence id 1 (§18.36.3).
  EXPECT_EQ(seq(a.sid, 0, 0).status, NFS4ERR_SEQ_MISORDERED);
  EXPECT_EQ(seq(a.sid, 0, 2).status, NFS4ERR_SEQ_MISORDERED);
  auto r = seq(a.sid, 0, 1);
  ASSERT_EQ(r.status, NFS4_OK);
  sm_.finish_request(*r.session, 0, false, {});
  EXPECT_EQ(seq(a.sid, 0, 3).status, NFS4ERR_SEQ_MISORDERED);
  EXPECT_EQ(seq(a.sid, 0, 0xFFFFFFFFu).status, NFS4ERR_SEQ_MISORDERED);
  EXPECT_EQ(seq(a.sid, 0, 2).status, NFS4_OK);
}

TEST_F(StateTest, SequenceIdWrapsAroundToZero) {
  auto a = new_client("a");
  {
    // As if 2^32 - 2 requests had gone through slot 0.
    std::lock_guard lock(a.session->mu);
    a.session->slots[0].seqid = 0xFFFFFFFEu;
  }
  EXPECT_EQ(seq(a.sid, 0, 0).status, NFS4ERR_SEQ_MISORDERED);
  auto r = seq(a.sid, 0, 0xFFFFFFFFu, 7, true);
  ASSERT_EQ(r.status, NFS4_OK);
  sm_.finish_request(*r.session, 0, true, std::vector<uint8_t>{1, 1, 1, 1});
  // §2.10.6.1: after 0xFFFFFFFF the sequence id wraps to zero.
  r = seq(a.sid, 0, 0, 8, true);
  ASSERT_EQ(r.status, NFS4_OK);
  sm_.finish_request(*r.session, 0, true, std::vector<uint8_t>{2, 2, 2, 2});
  // A retry of the request with sequence id 0 is a retry, not a misordered request.
  auto again = seq(a.sid, 0, 0, 8, true);
  ASSERT_EQ(again.status, NFS4_OK);
  ASSERT_TRUE(again.replay);
  EXPECT_EQ(std::vector<uint8_t>(again.cached_reply.data(),
                                 again.cached_reply.data() + again.cached_reply.size()),
            (std::vector<uint8_t>{2, 2, 2, 2}));
  EXPECT_EQ(seq(a.sid, 0, 0xFFFFFFFFu, 7, true).status, NFS4ERR_SEQ_MISORDERED);
  EXPECT_EQ(seq(a.sid, 0, 1, 9).status, NFS4_OK);
}

TEST_F(StateTest, SequenceBadSlotAndBadSession) {
  auto a = new_client("a");
  EXPECT_EQ(seq(a.sid, kSlots, 1).status, NFS4ERR_BADSLOT);
  EXPECT_EQ(seq(a.sid, 0xFFFFFFFFu, 1).status, NFS4ERR_BADSLOT);
  SessionId unknown = a.sid;
  unknown[15] ^= 0xFF;
  auto r = seq(unknown, 0, 1);
  EXPECT_EQ(r.status, NFS4ERR_BADSESSION);
  EXPECT_FALSE(r.session);
}

TEST_F(StateTest, SequenceChannelLimits) {
  auto a = new_client("a");  // fore: 1 MiB requests and replies, 64 KiB cached, 16 ops
  SequenceOk ok;
  auto call = [&](size_t req, size_t ops, size_t min_reply, bool cache) {
    return sm_.sequence(seq_args(a.sid, 0, 1, cache), 1, conn_, req, ops, min_reply, ok).status;
  };
  EXPECT_EQ(call((1u << 20) + 1, 2, 100, false), NFS4ERR_REQ_TOO_BIG);
  EXPECT_EQ(call(200, 17, 100, false), NFS4ERR_TOO_MANY_OPS);
  EXPECT_EQ(call(200, 2, (1u << 20) + 1, false), NFS4ERR_REP_TOO_BIG);
  EXPECT_EQ(call(200, 2, (64u << 10) + 1, true), NFS4ERR_REP_TOO_BIG_TO_CACHE);
  // An error leaves the slot as it was (§18.46.3): sequence id 1 is still the next one.
  EXPECT_EQ(call(1u << 20, 16, 64u << 10, true), NFS4_OK);
}

TEST_F(StateTest, SequenceBindsTheConnectionAndReportsBackChannelDown) {
  auto a = new_client("a");
  auto c2 = make_conn(2);
  ASSERT_EQ(seq(a.sid, 0, 1, 1, false, c2).status, NFS4_OK);
  EXPECT_EQ(sm_.sessions(a.id)[0].fore_connections, 2u);
  sm_.connection_closed(c2->id());
  EXPECT_EQ(sm_.sessions(a.id)[0].fore_connections, 1u);

  // A session asking for a back channel reports it down once its connection is gone.
  ExchangeIdOk eo;
  ASSERT_EQ(exchange("cb", 1, 1000, eo), NFS4_OK);
  auto back = make_conn(3);
  auto args = cs_args(eo.clientid, 1);
  args.flags = CREATE_SESSION4_FLAG_CONN_BACK_CHAN;
  CreateSessionOk co;
  ASSERT_EQ(sm_.create_session(args, principal(1000), back, co), NFS4_OK);
  SequenceOk ok;
  auto r = seq(co.sessionid, 0, 1, 1, false, back, &ok);
  ASSERT_EQ(r.status, NFS4_OK);
  EXPECT_EQ(ok.status_flags & SEQ4_STATUS_CB_PATH_DOWN_SESSION, 0u);
  sm_.finish_request(*r.session, 0, false, {});
  back.reset();  // the transport dropped it
  ASSERT_EQ(seq(co.sessionid, 0, 2, 1, false, nullptr, &ok).status, NFS4_OK);
  EXPECT_NE(ok.status_flags & SEQ4_STATUS_CB_PATH_DOWN_SESSION, 0u);
}

// ---- OPEN share reservations (§9.7) ------------------------------------------------------------

TEST_F(StateTest, OpenBeforeReclaimCompleteIsGrace) {
  auto a = new_client("a", 1000, 1, false);
  Stateid s;
  EXPECT_EQ(open(a, "oo", kF1, kRead, kDenyNone, s), NFS4ERR_GRACE);
  EXPECT_EQ(sm_.open_count(), 0u);
}

TEST_F(StateTest, ShareReservationsConflictBetweenOwners) {
  auto a = new_client("a");
  auto b = new_client("b");
  Stateid sa = must_open(a, "oa", kF1, kRead, kDenyWrite);
  EXPECT_EQ(sa.seqid, 1u);
  EXPECT_FALSE(StateManager::is_special(sa));
  Stateid s;
  EXPECT_EQ(open(b, "ob", kF1, kWrite, kDenyNone, s), NFS4ERR_SHARE_DENIED);
  EXPECT_EQ(open(b, "ob", kF1, kBoth, kDenyNone, s), NFS4ERR_SHARE_DENIED);
  EXPECT_EQ(open(b, "ob", kF1, kRead, kDenyRead, s), NFS4ERR_SHARE_DENIED);  // a reads
  // Another owner of the same client is another owner.
  EXPECT_EQ(open(a, "oa2", kF1, kWrite, kDenyNone, s), NFS4ERR_SHARE_DENIED);
  Stateid sb = must_open(b, "ob", kF1, kRead, kDenyNone);
  EXPECT_NE(sb.other, sa.other);
  EXPECT_EQ(check_share(kF1, OwnerKey{b.id, "ob"}, kWrite, kDenyNone), NFS4ERR_SHARE_DENIED);
  EXPECT_EQ(check_share(kF1, OwnerKey{a.id, "oa"}, kRead, kDenyRead), NFS4ERR_SHARE_DENIED);
  EXPECT_EQ(check_share(kF1, OwnerKey{a.id, "oa"}, kRead, kDenyNone), NFS4_OK);
  // Other files are not affected.
  must_open(b, "ob", kF2, kBoth, kDenyBoth);
  EXPECT_EQ(open(a, "oa", kF2, kRead, kDenyNone, s), NFS4ERR_SHARE_DENIED);
  EXPECT_EQ(sm_.open_count(), 3u);
}

TEST_F(StateTest, SameOwnerOpenUpgradesTheExistingState) {
  auto a = new_client("a");
  auto b = new_client("b");
  Stateid s1 = must_open(a, "oa", kF1, kRead, kDenyNone);
  Stateid s2 = must_open(a, "oa", kF1, kWrite, kDenyWrite);  // own opens never conflict
  EXPECT_EQ(s2.other, s1.other);
  EXPECT_EQ(s2.seqid, s1.seqid + 1);
  EXPECT_EQ(sm_.open_count(), 1u);
  Stateid s;
  EXPECT_EQ(open(b, "ob", kF1, kWrite, kDenyNone, s), NFS4ERR_SHARE_DENIED);
  EXPECT_EQ(sm_.check_io(a.rec, s2, kF1, true), NFS4_OK);
  EXPECT_EQ(sm_.test_stateid(*a.rec, s1), NFS4ERR_OLD_STATEID);
  EXPECT_EQ(sm_.test_stateid(*a.rec, s2), NFS4_OK);
}

TEST_F(StateTest, CloseReleasesTheReservation) {
  auto a = new_client("a");
  auto b = new_client("b");
  Stateid sa = must_open(a, "oa", kF1, kBoth, kDenyBoth);
  EXPECT_EQ(close(a, sa, kF2), NFS4ERR_BAD_STATEID);  // another file
  EXPECT_EQ(close(b, sa, kF1), NFS4ERR_BAD_STATEID);  // another client's stateid
  EXPECT_EQ(close(a, special(0, 0), kF1), NFS4ERR_BAD_STATEID);
  Stateid up = must_open(a, "oa", kF1, kRead);
  EXPECT_EQ(close(a, sa, kF1), NFS4ERR_OLD_STATEID);
  Stateid out;
  ASSERT_EQ(sm_.close(*a.rec, up, kF1, out), NFS4_OK);
  // §18.2.4: the stateid CLOSE returns is the invalid special stateid.
  EXPECT_EQ(out, special(UINT32_MAX, 0));
  EXPECT_EQ(sm_.open_count(), 0u);
  EXPECT_EQ(close(a, up, kF1), NFS4ERR_BAD_STATEID);
  EXPECT_EQ(sm_.test_stateid(*a.rec, up), NFS4ERR_BAD_STATEID);
  must_open(b, "ob", kF1, kBoth, kDenyBoth);
}

TEST_F(StateTest, CloseWithLocksHeldIsLocksHeld) {
  auto a = new_client("a");
  Stateid sa = must_open(a, "oa", kF1, kBoth);
  Stateid ls = must_lock(a, new_lock(WRITE_LT, 0, 10, sa, "la"), kF1);
  EXPECT_EQ(close(a, sa, kF1), NFS4ERR_LOCKS_HELD);
  EXPECT_EQ(sm_.open_count(), 1u);
  Stateid ls2;
  ASSERT_EQ(sm_.locku(*a.rec, unlock_args(ls, 0, 10), kF1, ls2), NFS4_OK);
  ASSERT_EQ(close(a, sa, kF1), NFS4_OK);
  // The lock stateid went with the open.
  EXPECT_EQ(sm_.test_stateid(*a.rec, ls2), NFS4ERR_BAD_STATEID);
  EXPECT_EQ(sm_.lock_count(), 0u);
}

TEST_F(StateTest, OpenDowngradeRules) {
  auto a = new_client("a");
  auto b = new_client("b");
  must_open(a, "oa", kF1, kRead, kDenyNone);
  Stateid cur = must_open(a, "oa", kF1, kBoth, kDenyWrite);  // access {R, RW}, deny {N, W}
  auto downgrade = [&](uint32_t access, uint32_t deny, const FileKey& f = kF1) {
    OpenDowngradeArgs args;
    args.stateid = cur;
    args.share_access = access;
    args.share_deny = deny;
    Stateid out;
    auto st = sm_.open_downgrade(*a.rec, args, f, out);
    if (st == NFS4_OK) {
      EXPECT_EQ(out.other, cur.other);
      EXPECT_EQ(out.seqid, cur.seqid + 1);
      cur = out;
    }
    return st;
  };
  EXPECT_EQ(downgrade(0, kDenyNone), NFS4ERR_INVAL);
  EXPECT_EQ(downgrade(4, kDenyNone), NFS4ERR_INVAL);
  EXPECT_EQ(downgrade(kRead, 4), NFS4ERR_INVAL);
  EXPECT_EQ(downgrade(kWrite, kDenyNone), NFS4ERR_INVAL);  // never opened for WRITE alone
  EXPECT_EQ(downgrade(kRead, kDenyRead), NFS4ERR_INVAL);   // never denied READ
  EXPECT_EQ(downgrade(kRead, kDenyNone, kF2), NFS4ERR_BAD_STATEID);
  // The delegation "want" bits are not part of the access value (§18.18.3).
  ASSERT_EQ(downgrade(kRead | OPEN4_SHARE_ACCESS_WANT_NO_DELEG, kDenyNone), NFS4_OK);
  // No way back up.
  EXPECT_EQ(downgrade(kBoth, kDenyNone), NFS4ERR_INVAL);
  EXPECT_EQ(downgrade(kRead, kDenyWrite), NFS4ERR_INVAL);
  // The reservation really shrank.
  must_open(b, "ob", kF1, kWrite, kDenyNone);
  EXPECT_EQ(sm_.check_io(a.rec, cur, kF1, true), NFS4ERR_OPENMODE);
}

// ---- READ/WRITE stateid checks ----------------------------------------------------------------

TEST_F(StateTest, CheckIoWithSpecialStateids) {
  auto a = new_client("a");
  auto b = new_client("b");
  const Stateid anon = special(0, 0);
  const Stateid bypass = special(UINT32_MAX, 0xFF);
  // No opens: anything goes.
  EXPECT_EQ(sm_.check_io(nullptr, anon, kF3, false), NFS4_OK);
  EXPECT_EQ(sm_.check_io(nullptr, anon, kF3, true), NFS4_OK);
  EXPECT_EQ(sm_.check_io(nullptr, bypass, kF3, false), NFS4_OK);
  // §8.2.3: in WRITE the READ bypass stateid is treated like the anonymous one.
  EXPECT_EQ(sm_.check_io(nullptr, bypass, kF3, true), NFS4_OK);

  must_open(a, "oa", kF1, kRead, kDenyWrite);
  EXPECT_EQ(sm_.check_io(nullptr, anon, kF1, true), NFS4ERR_LOCKED);
  EXPECT_EQ(sm_.check_io(nullptr, bypass, kF1, true), NFS4ERR_LOCKED);
  EXPECT_EQ(sm_.check_io(nullptr, anon, kF1, false), NFS4_OK);

  must_open(b, "ob", kF2, kRead, kDenyRead);
  EXPECT_EQ(sm_.check_io(nullptr, anon, kF2, false), NFS4ERR_LOCKED);
  EXPECT_EQ(sm_.check_io(nullptr, bypass, kF2, false), NFS4_OK);  // READ may bypass
  EXPECT_EQ(sm_.check_io(nullptr, anon, kF2, true), NFS4_OK);

  // Reserved combinations are bad stateids.
  EXPECT_EQ(sm_.check_io(a.rec, special(UINT32_MAX, 0), kF3, false), NFS4ERR_BAD_STATEID);
  EXPECT_EQ(sm_.check_io(a.rec, special(5, 0), kF3, false), NFS4ERR_BAD_STATEID);
  EXPECT_EQ(sm_.check_io(a.rec, special(1, 0xFF), kF3, false), NFS4ERR_BAD_STATEID);
}

TEST_F(StateTest, CheckIoWithOpenAndLockStateids) {
  auto a = new_client("a");
  auto b = new_client("b");
  Stateid ro = must_open(a, "oa", kF1, kRead);
  EXPECT_EQ(sm_.check_io(a.rec, ro, kF1, false), NFS4_OK);
  EXPECT_EQ(sm_.check_io(a.rec, ro, kF1, true), NFS4ERR_OPENMODE);
  EXPECT_EQ(sm_.check_io(a.rec, ro, kF2, false), NFS4ERR_BAD_STATEID);  // another file
  EXPECT_EQ(sm_.check_io(b.rec, ro, kF1, false), NFS4ERR_BAD_STATEID);  // another client
  // seqid 0 means "the current one"; a seqid never issued is bad.
  EXPECT_EQ(sm_.check_io(a.rec, Stateid{0, ro.other}, kF1, false), NFS4_OK);
  EXPECT_EQ(sm_.check_io(a.rec, Stateid{ro.seqid + 1, ro.other}, kF1, false), NFS4ERR_BAD_STATEID);
  // An unknown "other" is bad; one from another server instance is stale.
  Stateid unknown = ro;
  for (size_t i = 4; i < unknown.other.size(); ++i)
    unknown.other[i] = 0xEE;
  EXPECT_EQ(sm_.check_io(a.rec, unknown, kF1, false), NFS4ERR_BAD_STATEID);
  Stateid stale = ro;
  stale.other[0] ^= 0x5A;
  EXPECT_EQ(sm_.check_io(a.rec, stale, kF1, false), NFS4ERR_STALE_STATEID);

  // A lock stateid carries its open's access.
  Stateid rw = must_open(a, "oa", kF2, kBoth);
  Stateid lk = must_lock(a, new_lock(READ_LT, 0, 1, rw, "la"), kF2);
  EXPECT_EQ(sm_.check_io(a.rec, lk, kF2, true), NFS4_OK);
  Stateid lk_ro = must_lock(a, new_lock(READ_LT, 0, 1, ro, "lb"), kF1);
  EXPECT_EQ(sm_.check_io(a.rec, lk_ro, kF1, false), NFS4_OK);
  EXPECT_EQ(sm_.check_io(a.rec, lk_ro, kF1, true), NFS4ERR_OPENMODE);
}

// ---- TEST_STATEID and FREE_STATEID ------------------------------------------------------------

TEST_F(StateTest, TestAndFreeStateid) {
  auto a = new_client("a");
  auto b = new_client("b");
  Stateid sa = must_open(a, "oa", kF1, kBoth);
  Stateid ls = must_lock(a, new_lock(WRITE_LT, 0, 10, sa, "la"), kF1);
  EXPECT_EQ(sm_.test_stateid(*a.rec, sa), NFS4_OK);
  EXPECT_EQ(sm_.test_stateid(*a.rec, ls), NFS4_OK);
  EXPECT_EQ(sm_.test_stateid(*b.rec, sa), NFS4ERR_BAD_STATEID);
  EXPECT_EQ(sm_.test_stateid(*a.rec, special(0, 0)), NFS4ERR_BAD_STATEID);

  EXPECT_EQ(sm_.free_stateid(*a.rec, sa), NFS4ERR_LOCKS_HELD);  // CLOSE it instead
  EXPECT_EQ(sm_.free_stateid(*a.rec, ls), NFS4ERR_LOCKS_HELD);  // it still holds a lock
  EXPECT_EQ(sm_.free_stateid(*b.rec, ls), NFS4ERR_BAD_STATEID);
  Stateid ls2;
  ASSERT_EQ(sm_.locku(*a.rec, unlock_args(ls, 0, 10), kF1, ls2), NFS4_OK);
  // §8.2.4: a lock stateid outlives its last lock until freed.
  EXPECT_EQ(sm_.test_stateid(*a.rec, ls2), NFS4_OK);
  ASSERT_EQ(sm_.free_stateid(*a.rec, ls2), NFS4_OK);
  EXPECT_EQ(sm_.test_stateid(*a.rec, ls2), NFS4ERR_BAD_STATEID);
  EXPECT_EQ(sm_.free_stateid(*a.rec, ls2), NFS4ERR_BAD_STATEID);
  EXPECT_EQ(close(a, sa, kF1), NFS4_OK);
}

// ---- byte-range locks (§18.10-§18.12) ---------------------------------------------------------

TEST_F(StateTest, LockConflictReportsTheConflictingLock) {
  auto a = new_client("a");
  auto b = new_client("b");
  Stateid sa = must_open(a, "oa", kF1, kBoth);
  Stateid sb = must_open(b, "ob", kF1, kBoth);
  Stateid la = must_lock(a, new_lock(WRITE_LT, 0, 100, sa, "la"), kF1);
  EXPECT_EQ(la.seqid, 1u);
  EXPECT_EQ(sm_.lock_count(), 1u);

  LockResult r;
  ASSERT_EQ(sm_.lock(*b.rec, new_lock(READ_LT, 50, 10, sb, "lb"), kF1, r), NFS4ERR_DENIED);
  EXPECT_EQ(r.denied.offset, 0u);
  EXPECT_EQ(r.denied.length, 100u);
  EXPECT_EQ(r.denied.locktype, WRITE_LT);
  EXPECT_EQ(r.denied.owner.clientid, a.id);  // the real client, not what was sent
  EXPECT_EQ(r.denied.owner.owner, (std::vector<uint8_t>{'l', 'a'}));
  // WRITEW_LT conflicts just the same (no blocking).
  EXPECT_EQ(sm_.lock(*b.rec, new_lock(WRITEW_LT, 99, 1, sb, "lb"), kF1, r), NFS4ERR_DENIED);
  // Adjacent ranges do not overlap.
  Stateid lb = must_lock(b, new_lock(READ_LT, 100, 10, sb, "lb"), kF1);
  EXPECT_EQ(sm_.lock_count(), 2u);

  // LOCKT: another owner conflicts, the owner's own locks do not.
  LockDenied d;
  ASSERT_EQ(lockt(b, test_args(WRITE_LT, 0, 1, "lb"), kF1, &d), NFS4ERR_DENIED);
  EXPECT_EQ(d.owner.clientid, a.id);
  EXPECT_EQ(d.offset, 0u);
  EXPECT_EQ(d.length, 100u);
  EXPECT_EQ(lockt(a, test_args(WRITE_LT, 0, 100, "la"), kF1), NFS4_OK);
  EXPECT_EQ(lockt(a, test_args(WRITE_LT, 0, 101, "la"), kF1, &d), NFS4ERR_DENIED);
  EXPECT_EQ(d.owner.clientid, b.id);
  EXPECT_EQ(d.locktype, READ_LT);
  EXPECT_EQ(lockt(a, test_args(READ_LT, 100, 10, "someone"), kF1), NFS4_OK);  // read-read
  EXPECT_EQ(lockt(a, test_args(WRITE_LT, 0, 1, "someone"), kF1), NFS4ERR_DENIED);
  EXPECT_EQ(lockt(a, test_args(WRITE_LT, 0, 1, "la"), kF2), NFS4_OK);  // another file
  // The client id comes from the session, not from the owner sent: b cannot pose as "la".
  EXPECT_EQ(lockt(b, test_args(WRITE_LT, 0, 1, "la"), kF1), NFS4ERR_DENIED);
  (void)lb;
}

TEST_F(StateTest, ReadLocksShareAndUpgradeConflicts) {
  auto a = new_client("a");
  auto b = new_client("b");
  Stateid sa = must_open(a, "oa", kF1, kBoth);
  Stateid sb = must_open(b, "ob", kF1, kBoth);
  Stateid la = must_lock(a, new_lock(READ_LT, 0, 10, sa, "la"), kF1);
  must_lock(b, new_lock(READ_LT, 5, 10, sb, "lb"), kF1);
  LockResult r;
  ASSERT_EQ(sm_.lock(*a.rec, more_lock(WRITE_LT, 0, 10, la), kF1, r), NFS4ERR_DENIED);
  EXPECT_EQ(r.denied.owner.clientid, b.id);
  EXPECT_EQ(r.denied.locktype, READ_LT);
  EXPECT_EQ(r.denied.offset, 5u);
  EXPECT_EQ(r.denied.length, 10u);
  // The read lock is still there and the stateid did not move.
  EXPECT_EQ(sm_.lock_count(), 2u);
  EXPECT_EQ(sm_.test_stateid(*a.rec, la), NFS4_OK);
  // Upgrading the part nobody else holds works.
  Stateid la2 = must_lock(a, more_lock(WRITE_LT, 0, 5, la), kF1);
  EXPECT_EQ(la2.other, la.other);
  EXPECT_EQ(la2.seqid, la.seqid + 1);
}

TEST_F(StateTest, SameOwnerLockReplacesAndSplits) {
  auto a = new_client("a");
  auto b = new_client("b");
  Stateid sa = must_open(a, "oa", kF1, kBoth);
  must_open(b, "ob", kF1, kBoth);
  Stateid la = must_lock(a, new_lock(WRITE_LT, 0, 100, sa, "la"), kF1);
  // Downgrading the middle splits the write lock: W[0,20) R[20,30) W[30,100).
  Stateid la2 = must_lock(a, more_lock(READ_LT, 20, 10, la), kF1);
  EXPECT_EQ(la2.seqid, 2u);
  EXPECT_EQ(sm_.lock_count(), 3u);
  LockDenied d;
  EXPECT_EQ(lockt(b, test_args(READ_LT, 20, 10, "lb"), kF1), NFS4_OK);
  ASSERT_EQ(lockt(b, test_args(READ_LT, 0, 25, "lb"), kF1, &d), NFS4ERR_DENIED);
  EXPECT_EQ(d.offset, 0u);
  EXPECT_EQ(d.length, 20u);
  EXPECT_EQ(d.locktype, WRITE_LT);
  ASSERT_EQ(lockt(b, test_args(READ_LT, 25, 100, "lb"), kF1, &d), NFS4ERR_DENIED);
  EXPECT_EQ(d.offset, 30u);
  EXPECT_EQ(d.length, 70u);
  ASSERT_EQ(lockt(b, test_args(WRITE_LT, 22, 2, "lb"), kF1, &d), NFS4ERR_DENIED);
  EXPECT_EQ(d.offset, 20u);
  EXPECT_EQ(d.length, 10u);
  EXPECT_EQ(d.locktype, READ_LT);
  // A lock over everything merges it back into one range.
  must_lock(a, more_lock(WRITE_LT, 0, 100, la2), kF1);
  EXPECT_EQ(sm_.lock_count(), 1u);
}

TEST_F(StateTest, LockuSplitsAndFrees) {
  auto a = new_client("a");
  auto b = new_client("b");
  Stateid sa = must_open(a, "oa", kF1, kBoth);
  Stateid sb = must_open(b, "ob", kF1, kBoth);
  Stateid la = must_lock(a, new_lock(WRITE_LT, 0, 100, sa, "la"), kF1);
  Stateid la2;
  ASSERT_EQ(sm_.locku(*a.rec, unlock_args(la, 40, 20), kF1, la2), NFS4_OK);
  EXPECT_EQ(la2.other, la.other);
  EXPECT_EQ(la2.seqid, la.seqid + 1);
  EXPECT_EQ(sm_.lock_count(), 2u);
  LockDenied d;
  EXPECT_EQ(lockt(b, test_args(WRITE_LT, 40, 20, "lb"), kF1), NFS4_OK);
  ASSERT_EQ(lockt(b, test_args(WRITE_LT, 35, 10, "lb"), kF1, &d), NFS4ERR_DENIED);
  EXPECT_EQ(d.offset, 0u);
  EXPECT_EQ(d.length, 40u);
  ASSERT_EQ(lockt(b, test_args(WRITE_LT, 50, 20, "lb"), kF1, &d), NFS4ERR_DENIED);
  EXPECT_EQ(d.offset, 60u);
  EXPECT_EQ(d.length, 40u);
  must_lock(b, new_lock(WRITE_LT, 40, 20, sb, "lb"), kF1);

  // Unlocking what is not locked is fine; an old lock stateid is not.
  Stateid la3;
  EXPECT_EQ(sm_.locku(*a.rec, unlock_args(la2, 200, 10), kF1, la3), NFS4_OK);
  EXPECT_EQ(sm_.locku(*a.rec, unlock_args(la, 0, 10), kF1, la3), NFS4ERR_OLD_STATEID);
  EXPECT_EQ(sm_.locku(*a.rec, unlock_args(sa, 0, 10), kF1, la3), NFS4ERR_BAD_STATEID);  // open
  EXPECT_EQ(sm_.locku(*b.rec, unlock_args(la2, 0, 10), kF1, la3), NFS4ERR_BAD_STATEID);
}

TEST_F(StateTest, LockToEndOfFile) {
  auto a = new_client("a");
  auto b = new_client("b");
  Stateid sa = must_open(a, "oa", kF1, kBoth);
  must_open(b, "ob", kF1, kBoth);
  must_lock(a, new_lock(WRITE_LT, 100, kUint64Max, sa, "la"), kF1);
  LockDenied d;
  ASSERT_EQ(lockt(b, test_args(READ_LT, uint64_t{1} << 62, 1, "lb"), kF1, &d), NFS4ERR_DENIED);
  EXPECT_EQ(d.offset, 100u);
  EXPECT_EQ(d.length, kUint64Max);
  EXPECT_EQ(lockt(b, test_args(WRITE_LT, 0, 100, "lb"), kF1), NFS4_OK);
  EXPECT_EQ(lockt(b, test_args(WRITE_LT, kUint64Max - 1, 1, "lb"), kF1), NFS4ERR_DENIED);
}

TEST_F(StateTest, InvalidLockRangesAndTypes) {
  auto a = new_client("a");
  Stateid sa = must_open(a, "oa", kF1, kBoth);
  LockResult r;
  EXPECT_EQ(sm_.lock(*a.rec, new_lock(WRITE_LT, 0, 0, sa, "la"), kF1, r), NFS4ERR_INVAL);
  EXPECT_EQ(sm_.lock(*a.rec, new_lock(WRITE_LT, kUint64Max - 1, 2, sa, "la"), kF1, r),
            NFS4ERR_INVAL);
  EXPECT_EQ(sm_.lock(*a.rec, new_lock(WRITE_LT, kUint64Max, 1, sa, "la"), kF1, r), NFS4ERR_INVAL);
  EXPECT_EQ(sm_.lock(*a.rec, new_lock(static_cast<nfs_lock_type4>(0), 0, 1, sa, "la"), kF1, r),
            NFS4ERR_INVAL);
  EXPECT_EQ(sm_.lock(*a.rec, new_lock(static_cast<nfs_lock_type4>(5), 0, 1, sa, "la"), kF1, r),
            NFS4ERR_INVAL);
  EXPECT_EQ(sm_.lock_count(), 0u);
  // offset + length == NFS4_UINT64_MAX is the largest valid range.
  Stateid la = must_lock(a, new_lock(WRITE_LT, 1, kUint64Max - 1, sa, "la"), kF1);

  EXPECT_EQ(lockt(a, test_args(WRITE_LT, 5, 0, "x"), kF1), NFS4ERR_INVAL);
  EXPECT_EQ(lockt(a, test_args(WRITE_LT, 2, kUint64Max - 1, "x"), kF1), NFS4ERR_INVAL);
  EXPECT_EQ(lockt(a, test_args(static_cast<nfs_lock_type4>(9), 0, 1, "x"), kF1), NFS4ERR_INVAL);
  Stateid out;
  EXPECT_EQ(sm_.locku(*a.rec, unlock_args(la, 0, 0), kF1, out), NFS4ERR_INVAL);
  EXPECT_EQ(sm_.locku(*a.rec, unlock_args(la, 3, kUint64Max - 2), kF1, out), NFS4ERR_INVAL);
}

TEST_F(StateTest, LockNeedsAMatchingOpenMode) {
  auto a = new_client("a");
  Stateid ro = must_open(a, "oa", kF1, kRead);
  Stateid wo = must_open(a, "oa", kF2, kWrite);
  LockResult r;
  EXPECT_EQ(sm_.lock(*a.rec, new_lock(WRITE_LT, 0, 1, ro, "la"), kF1, r), NFS4ERR_OPENMODE);
  EXPECT_EQ(sm_.lock(*a.rec, new_lock(READ_LT, 0, 1, wo, "la"), kF2, r), NFS4ERR_OPENMODE);
  must_lock(a, new_lock(READ_LT, 0, 1, ro, "la"), kF1);
  must_lock(a, new_lock(WRITE_LT, 0, 1, wo, "lb"), kF2);
}

TEST_F(StateTest, LockStateidChecks) {
  auto a = new_client("a");
  auto b = new_client("b", 1000, 1, false);
  Stateid sa = must_open(a, "oa", kF1, kBoth);
  LockResult r;
  // The open stateid must be of the same file; a lock stateid must be one.
  EXPECT_EQ(sm_.lock(*a.rec, new_lock(WRITE_LT, 0, 1, sa, "la"), kF2, r), NFS4ERR_BAD_STATEID);
  EXPECT_EQ(sm_.lock(*a.rec, more_lock(WRITE_LT, 0, 1, sa), kF1, r), NFS4ERR_BAD_STATEID);
  // Reclaims find nothing to reclaim; new locks wait for RECLAIM_COMPLETE.
  auto reclaim = new_lock(WRITE_LT, 0, 1, sa, "la");
  reclaim.reclaim = true;
  EXPECT_EQ(sm_.lock(*a.rec, reclaim, kF1, r), NFS4ERR_NO_GRACE);
  EXPECT_EQ(sm_.lock(*b.rec, new_lock(WRITE_LT, 0, 1, sa, "la"), kF1, r), NFS4ERR_GRACE);
  EXPECT_EQ(sm_.lock_count(), 0u);
}

TEST_F(StateTest, RefusedLockLeavesNoStateBehind) {
  // A LOCK refused for its open mode must not leave a lock owner holding the client's
  // record "in use": with no state left, §18.35.5 case 3 lets another principal take over.
  auto a = new_client("a", 1000);
  Stateid ro = must_open(a, "oa", kF1, kRead);
  LockResult r;
  ASSERT_EQ(sm_.lock(*a.rec, new_lock(WRITE_LT, 0, 1, ro, "la"), kF1, r), NFS4ERR_OPENMODE);
  ASSERT_EQ(close(a, ro, kF1), NFS4_OK);
  ASSERT_EQ(sm_.destroy_session(a.sid, principal(1000), conn_, nullptr), NFS4_OK);
  ExchangeIdOk out;
  EXPECT_EQ(exchange("a", 1, 2000, out), NFS4_OK);
}

// ---- leases, eviction, hooks, observers -------------------------------------------------------

TEST_F(StateTest, FreshClientsAreNotReaped) {
  new_client("a");
  ExchangeIdOk eo;
  ASSERT_EQ(exchange("b", 1, 1000, eo), NFS4_OK);
  EXPECT_EQ(sm_.reap_expired(), 0u);
  EXPECT_EQ(sm_.client_count(), 2u);
}

TEST_F(StateTest, ExpiredLeasesAreReapedButNotUnderARunningRequest) {
  Settings s;
  s.lease_time = 1;
  settings_.set(s);
  auto a = new_client("a");  // holds nothing, so nothing keeps it past its lease
  auto b = new_client("b");
  ASSERT_EQ(seq(b.sid, 0, 1).status, NFS4_OK);  // b has a request in progress

  size_t reaped = 0;
  ASSERT_TRUE(eventually([&] {
    reaped += sm_.reap_expired();
    return !sm_.client(a.id).has_value();
  }));
  EXPECT_EQ(reaped, 1u);
  EXPECT_EQ(seq(a.sid, 0, 1).status, NFS4ERR_BADSESSION);

  // b's lease ran out too, but not while its request is being executed.
  ASSERT_TRUE(eventually([&] {
    auto c = sm_.client(b.id);
    return c && c->lease_remaining_s == 0;
  }));
  EXPECT_EQ(sm_.reap_expired(), 0u);
  EXPECT_TRUE(sm_.client(b.id).has_value());
  sm_.finish_request(*b.session, 0, false, {});
  ASSERT_TRUE(eventually([&] {
    sm_.reap_expired();
    return !sm_.client(b.id).has_value();
  }));
  EXPECT_EQ(sm_.client_count(), 0u);
  EXPECT_EQ(sm_.session_count(), 0u);
}

// §8.4.3: a client whose lease ran out while it held state is kept (a courtesy client)
// until another client's request conflicts with that state; the request is answered DELAY
// and the client expired, and the retry goes through.
TEST_F(StateTest, AnExpiredClientWithStateIsKeptUntilAnotherClientNeedsIt) {
  Settings s;
  s.lease_time = 1;
  settings_.set(s);
  auto a = new_client("a");
  must_open(a, "oa", kF1, kBoth, kDenyWrite);
  ASSERT_TRUE(eventually([&] {
    EXPECT_EQ(sm_.reap_expired(), 0u);
    auto c = sm_.client(a.id);
    return c && c->courtesy;
  }));
  EXPECT_EQ(sm_.open_count(), 1u);
  EXPECT_EQ(sm_.expire_requested(), 0u);  // nobody asked

  auto c = new_client("c");
  Stateid sc;
  EXPECT_EQ(open(c, "oc", kF1, kBoth, kDenyNone, sc), NFS4ERR_DELAY);
  EXPECT_EQ(sm_.expire_requested(), 1u);
  EXPECT_FALSE(sm_.client(a.id).has_value());
  EXPECT_EQ(seq(a.sid, 0, 1).status, NFS4ERR_BADSESSION);
  ASSERT_FALSE(hook_.empty());
  EXPECT_EQ(hook_.back(), std::make_pair(kF1, false));  // a's open is gone
  EXPECT_EQ(open(c, "oc", kF1, kBoth, kDenyNone, sc), NFS4_OK);
}

class NullHandler : public rpc::RecordHandler {
 public:
  void on_record(const std::shared_ptr<rpc::Connection>&, std::span<const uint8_t>,
                 std::shared_ptr<xdr::OutOfLineBytes>) override {}
};

TEST_F(StateTest, EvictClientDropsStateAndClosesConnections) {
  // A reactor that never runs: close() only queues a request on it.
  NullHandler handler;
  std::atomic<size_t> max_record{1u << 20};
  rpc::ConnectionRegistry registry;
  std::atomic<int64_t> receive_budget{1 << 20};
  rpc::TransportObserver* observer = nullptr;
  rpc::Reactor reactor(handler, max_record, registry, receive_budget, observer);
  auto conn = std::make_shared<rpc::Connection>(50, -1, "evict-peer", &reactor);

  ExchangeIdOk eo;
  ASSERT_EQ(exchange("a", 1, 1000, eo), NFS4_OK);
  CreateSessionOk co;
  ASSERT_EQ(sm_.create_session(cs_args(eo.clientid, 1), principal(1000), conn, co), NFS4_OK);
  SequenceOk ok;
  auto r = sm_.sequence(seq_args(co.sessionid, 0, 1), 1, conn, 100, 2, 100, ok);
  ASSERT_EQ(r.status, NFS4_OK);
  sm_.finish_request(*r.session, 0, false, {});
  ASSERT_EQ(sm_.reclaim_complete(*r.session->client, false), NFS4_OK);
  {
    auto lock = sm_.lock_file(kF1);
    Stateid s;
    ASSERT_EQ(
        sm_.open_locked(*r.session->client, OwnerKey{eo.clientid, "oo"}, kF1, kBoth, kDenyNone, s),
        NFS4_OK);
  }
  auto bystander = new_client("b");

  EXPECT_TRUE(sm_.evict_client(eo.clientid));
  EXPECT_TRUE(conn->is_closed());
  EXPECT_FALSE(conn_->is_closed());
  EXPECT_FALSE(sm_.client(eo.clientid).has_value());
  EXPECT_EQ(sm_.client_count(), 1u);
  EXPECT_EQ(sm_.session_count(), 1u);
  EXPECT_EQ(sm_.open_count(), 0u);
  EXPECT_EQ(hook_.back(), std::make_pair(kF1, false));
  EXPECT_EQ(sm_.sequence(seq_args(co.sessionid, 0, 2), 1, conn_, 100, 2, 100, ok).status,
            NFS4ERR_BADSESSION);
  EXPECT_FALSE(sm_.evict_client(eo.clientid));
  (void)bystander;
}

TEST_F(StateTest, FileOpenHookOnFirstOpenAndLastClose) {
  auto a = new_client("a");
  auto b = new_client("b");
  Stateid sa = must_open(a, "oa", kF1, kRead);
  ASSERT_EQ(hook_.size(), 1u);
  EXPECT_EQ(hook_[0], std::make_pair(kF1, true));
  Stateid sb = must_open(b, "ob", kF1, kRead);
  must_open(a, "oa", kF1, kWrite);  // an upgrade is not a new open
  EXPECT_EQ(hook_.size(), 1u);
  Stateid cur{0, sa.other};
  ASSERT_EQ(close(a, cur, kF1), NFS4_OK);
  EXPECT_EQ(hook_.size(), 1u);  // b still has it open
  ASSERT_EQ(close(b, sb, kF1), NFS4_OK);
  ASSERT_EQ(hook_.size(), 2u);
  EXPECT_EQ(hook_[1], std::make_pair(kF1, false));
  must_open(a, "oa", kF1, kRead);
  ASSERT_EQ(hook_.size(), 3u);
  EXPECT_EQ(hook_[2], std::make_pair(kF1, true));
}

class RecordingObserver : public StateObserver {
 public:
  void session_created(const Session&) override { events.push_back("session+"); }
  void session_ended(const Session&, EndReason why) override {
    events.push_back("session-" + std::to_string(static_cast<int>(why)));
  }
  void client_created(const ClientRecord&) override { events.push_back("client+"); }
  void client_ended(const ClientRecord&, EndReason why) override {
    events.push_back("client-" + std::to_string(static_cast<int>(why)));
  }
  std::vector<std::string> events;
};

TEST_F(StateTest, ObserverSeesConfirmationReplacementAndDestruction) {
  RecordingObserver obs;
  sm_.set_observer(&obs);
  auto a = new_client("a", 1000, 1);
  EXPECT_EQ(obs.events, (std::vector<std::string>{"client+", "session+"}));
  obs.events.clear();
  // A restarted client replaces the old record once confirmed.
  ExchangeIdOk eo;
  ASSERT_EQ(exchange("a", 2, 1000, eo), NFS4_OK);
  EXPECT_TRUE(obs.events.empty());  // unconfirmed records are not reported
  CreateSessionOk co;
  ASSERT_EQ(sm_.create_session(cs_args(eo.clientid, 1), principal(1000), conn_, co), NFS4_OK);
  const auto replaced = std::to_string(static_cast<int>(EndReason::kReplaced));
  EXPECT_EQ(obs.events, (std::vector<std::string>{"session-" + replaced, "client-" + replaced,
                                                  "client+", "session+"}));
  obs.events.clear();
  ASSERT_EQ(sm_.destroy_session(co.sessionid, principal(1000), conn_, nullptr), NFS4_OK);
  ASSERT_EQ(sm_.destroy_clientid(eo.clientid, principal(1000), nullptr), NFS4_OK);
  const auto destroyed = std::to_string(static_cast<int>(EndReason::kDestroyed));
  EXPECT_EQ(obs.events, (std::vector<std::string>{"session-" + destroyed, "client-" + destroyed}));
  sm_.set_observer(nullptr);
}

}  // namespace
}  // namespace dfs::nfs4::state
