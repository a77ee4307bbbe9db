// Client ids, sessions and the COMPOUND gate over a real socket (RFC 5661 §2.4, §2.10,
// §16.2.3, §18.35-§18.37, §18.46, §18.50, §18.51): EXCHANGE_ID record cases, CREATE_SESSION
// negotiation and replay, SEQUENCE exactly-once semantics and slot errors, what may come
// first in a COMPOUND, minor versions, and leases.

#include "nfs4_test_util.h"

namespace dfs::testing {
namespace {

using namespace std::chrono_literals;

class SessionTest : public ServerTest {
 protected:
  // EXCHANGE_ID with a fresh owner; the client id and its CREATE_SESSION sequence.
  ExchangeIdOk new_client(NfsClient& c, const std::string& owner, uint64_t verifier = 1) {
    auto r = exchange_id(c, exchange_args(owner, verifier_of(verifier)));
    EXPECT_EQ(r.status, NFS4_OK);
    return r.ok;
  }
};

// ---- EXCHANGE_ID (§18.35) --------------------------------------------------------------------

TEST_F(SessionTest, ExchangeIdNewOwnerGivesUnconfirmedClientId) {
  auto c = bare_client();
  auto r = exchange_id(*c, exchange_args(unique_name("owner-"), verifier_of(7)));
  ASSERT_EQ(r.status, NFS4_OK);
  EXPECT_NE(r.ok.clientid, 0u);
  EXPECT_EQ(r.ok.flags & EXCHGID4_FLAG_CONFIRMED_R, 0u);
  EXPECT_EQ(r.ok.flags & EXCHGID4_FLAG_UPD_CONFIRMED_REC_A, 0u);  // never in eir_flags
  // Exactly one pNFS role is reported (§18.35.3); this server is not a pNFS server.
  EXPECT_EQ(r.ok.flags & EXCHGID4_FLAG_MASK_PNFS, EXCHGID4_FLAG_USE_NON_PNFS);
  EXPECT_FALSE(r.ok.server_owner.major_id.empty());
  EXPECT_EQ(r.ok.state_protect.how, SP4_NONE);
}

TEST_F(SessionTest, ExchangeIdRetryOfUnconfirmedReplacesTheRecord) {
  auto c = bare_client();
  const std::string owner = unique_name("owner-");
  auto first = new_client(*c, owner, 1);
  auto second = new_client(*c, owner, 1);
  // Case 4 (§18.35.4): the unconfirmed record is replaced by a new client id.
  EXPECT_NE(first.clientid, second.clientid);
  EXPECT_EQ(create_session(*c, session_args(first.clientid, first.sequenceid)).status,
            NFS4ERR_STALE_CLIENTID);
  EXPECT_EQ(create_session(*c, session_args(second.clientid, second.sequenceid)).status, NFS4_OK);
}

TEST_F(SessionTest, ExchangeIdSameOwnerAndVerifierAfterConfirmIsSameClientConfirmed) {
  auto c = bare_client();
  const std::string owner = unique_name("owner-");
  auto first = new_client(*c, owner, 42);
  auto cs = create_session(*c, session_args(first.clientid, first.sequenceid));
  ASSERT_EQ(cs.status, NFS4_OK);
  // Case 2: the same client asking again gets the same id, now marked confirmed.
  auto again = exchange_id(*c, exchange_args(owner, verifier_of(42)));
  ASSERT_EQ(again.status, NFS4_OK);
  EXPECT_EQ(again.ok.clientid, first.clientid);
  EXPECT_NE(again.ok.flags & EXCHGID4_FLAG_CONFIRMED_R, 0u);
  // And the session it has is untouched.
  adopt_session(*c, first.clientid, cs.ok);
  EXPECT_EQ(c->call(c->builder()).status, NFS4_OK);
}

TEST_F(SessionTest, ExchangeIdChangedVerifierReplacesClientOnlyOnceConfirmed) {
  auto old_c = bare_client();
  const std::string owner = unique_name("owner-");
  auto first = new_client(*old_c, owner, 1);
  auto cs1 = create_session(*old_c, session_args(first.clientid, first.sequenceid));
  ASSERT_EQ(cs1.status, NFS4_OK);
  adopt_session(*old_c, first.clientid, cs1.ok);
  ASSERT_EQ(old_c->call(old_c->builder()).status, NFS4_OK);

  // The client restarted (case 5): a new verifier gets a new, unconfirmed client id.
  auto new_c = bare_client();
  auto second = exchange_id(*new_c, exchange_args(owner, verifier_of(2)));
  ASSERT_EQ(second.status, NFS4_OK);
  EXPECT_NE(second.ok.clientid, first.clientid);
  EXPECT_EQ(second.ok.flags & EXCHGID4_FLAG_CONFIRMED_R, 0u);

  // Until the new record is confirmed, the old incarnation keeps working.
  EXPECT_EQ(old_c->call(old_c->builder()).status, NFS4_OK);

  auto cs2 = create_session(*new_c, session_args(second.ok.clientid, second.ok.sequenceid));
  ASSERT_EQ(cs2.status, NFS4_OK);
  EXPECT_NE(cs2.ok.sessionid, cs1.ok.sessionid);

  // Confirming it retired the old client id and its session.
  EXPECT_EQ(old_c->call(old_c->builder()).status, NFS4ERR_BADSESSION);
  EXPECT_EQ(create_session(*old_c, session_args(first.clientid, first.sequenceid + 1)).status,
            NFS4ERR_STALE_CLIENTID);
  adopt_session(*new_c, second.ok.clientid, cs2.ok);
  EXPECT_EQ(new_c->call(new_c->builder()).status, NFS4_OK);
}

TEST_F(SessionTest, ExchangeIdUpdateCases) {
  auto c = bare_client();
  const std::string owner = unique_name("owner-");
  // Case 7: an update with no confirmed record.
  EXPECT_EQ(exchange_id(*c, exchange_args(owner, verifier_of(1), EXCHGID4_FLAG_UPD_CONFIRMED_REC_A))
                .status,
            NFS4ERR_NOENT);
  auto first = new_client(*c, owner, 1);
  ASSERT_EQ(create_session(*c, session_args(first.clientid, first.sequenceid)).status, NFS4_OK);
  // Case 8: an update with the wrong verifier.
  EXPECT_EQ(exchange_id(*c, exchange_args(owner, verifier_of(9), EXCHGID4_FLAG_UPD_CONFIRMED_REC_A))
                .status,
            NFS4ERR_NOT_SAME);
  // Case 6: a proper update keeps the client id and says it is confirmed.
  auto upd =
      exchange_id(*c, exchange_args(owner, verifier_of(1), EXCHGID4_FLAG_UPD_CONFIRMED_REC_A));
  ASSERT_EQ(upd.status, NFS4_OK);
  EXPECT_EQ(upd.ok.clientid, first.clientid);
  EXPECT_NE(upd.ok.flags & EXCHGID4_FLAG_CONFIRMED_R, 0u);
}

TEST_F(SessionTest, ExchangeIdOtherPrincipalWithStateIsClidInUse) {
  auto root = bare_client();
  const std::string owner = unique_name("owner-");
  auto first = new_client(*root, owner, 1);
  ASSERT_EQ(create_session(*root, session_args(first.clientid, first.sequenceid)).status, NFS4_OK);
  // Case 3: the same owner string from another principal while the first holds a session.
  NfsClient other("127.0.0.1", port(), 1000, 1000);
  EXPECT_EQ(exchange_id(other, exchange_args(owner, verifier_of(1))).status, NFS4ERR_CLID_INUSE);
}

TEST_F(SessionTest, ExchangeIdUndefinedFlagsAreInval) {
  auto c = bare_client();
  // §18.35.3: bits not defined for eia_flags, and CONFIRMED_R (a result-only bit).
  for (uint32_t flags : {EXCHGID4_FLAG_CONFIRMED_R, 0x00000004u, 0x00001000u, 0x01000000u}) {
    SCOPED_TRACE(flags);
    EXPECT_EQ(exchange_id(*c, exchange_args(unique_name("owner-"), verifier_of(1), flags)).status,
              NFS4ERR_INVAL);
  }
  // The defined ones are accepted.
  EXPECT_EQ(exchange_id(*c, exchange_args(
                                unique_name("owner-"), verifier_of(1),
                                EXCHGID4_FLAG_SUPP_MOVED_REFER | EXCHGID4_FLAG_BIND_PRINC_STATEID))
                .status,
            NFS4_OK);
}

// ---- CREATE_SESSION (§18.36) -------------------------------------------------------------------

TEST_F(SessionTest, CreateSessionNegotiatesChannelAttributesDown) {
  server::Config cfg;
  cfg.nfs.v4_max_session_slots = 8;
  start(cfg);
  auto c = bare_client();
  auto eid = new_client(*c, unique_name("owner-"));
  auto args = session_args(eid.clientid, eid.sequenceid, 100);
  args.fore.maxrequestsize = 64u << 20;
  args.fore.maxresponsesize = 64u << 20;
  args.fore.maxresponsesize_cached = 64u << 20;
  args.fore.maxoperations = 100000;
  auto cs = create_session(*c, args);
  ASSERT_EQ(cs.status, NFS4_OK);
  const auto& s = cfg.nfs;
  EXPECT_EQ(cs.ok.fore.maxrequests, 8u);  // capped by v4_max_session_slots
  EXPECT_GT(cs.ok.fore.maxrequestsize, 0u);
  EXPECT_LE(cs.ok.fore.maxrequestsize, s.max_record_size);
  EXPECT_GT(cs.ok.fore.maxresponsesize, 0u);
  EXPECT_LE(cs.ok.fore.maxresponsesize, s.max_record_size);
  EXPECT_LE(cs.ok.fore.maxresponsesize_cached, s.max_record_size);
  EXPECT_GT(cs.ok.fore.maxoperations, 0u);
  EXPECT_LE(cs.ok.fore.maxoperations, s.max_compound_ops);
  EXPECT_EQ(cs.ok.sequence, eid.sequenceid);
  // Smaller requests are granted as asked.
  auto eid2 = new_client(*c, unique_name("owner-"));
  auto small = session_args(eid2.clientid, eid2.sequenceid, 3);
  small.fore.maxoperations = 10;
  auto cs2 = create_session(*c, small);
  ASSERT_EQ(cs2.status, NFS4_OK);
  EXPECT_EQ(cs2.ok.fore.maxrequests, 3u);
  EXPECT_EQ(cs2.ok.fore.maxoperations, 10u);
  EXPECT_LE(cs2.ok.fore.maxrequestsize, small.fore.maxrequestsize);
  EXPECT_LE(cs2.ok.fore.maxresponsesize, small.fore.maxresponsesize);

  // The slot table really has 8 slots: slot 7 works, slot 8 is BADSLOT.
  adopt_session(*c, eid.clientid, cs.ok);
  auto b7 = sequenced(*c, 7);
  auto r7 = c->compound(b7);
  auto s7 = r7.next<SequenceResult>(OP_SEQUENCE);
  ASSERT_EQ(s7.status, NFS4_OK);
  EXPECT_EQ(s7.ok.highest_slotid, 7u);
  auto r8 = c->compound(sequenced(*c, 8));
  EXPECT_EQ(r8.next<SequenceResult>(OP_SEQUENCE).status, NFS4ERR_BADSLOT);
}

TEST_F(SessionTest, CreateSessionReplayReturnsSameSession) {
  auto c = bare_client();
  auto eid = new_client(*c, unique_name("owner-"));
  auto args = session_args(eid.clientid, eid.sequenceid);
  auto first = create_session(*c, args);
  ASSERT_EQ(first.status, NFS4_OK);
  // §18.36.4: the same csa_sequence again is a retry: the same reply, no second session.
  auto replay = create_session(*c, args);
  ASSERT_EQ(replay.status, NFS4_OK);
  EXPECT_EQ(replay.ok.sessionid, first.ok.sessionid);
  EXPECT_EQ(replay.ok.sequence, first.ok.sequence);
  EXPECT_EQ(daemon().nfs().state.sessions(eid.clientid).size(), 1u);
  // The next sequence makes a second session.
  auto next = create_session(*c, session_args(eid.clientid, eid.sequenceid + 1));
  ASSERT_EQ(next.status, NFS4_OK);
  EXPECT_NE(next.ok.sessionid, first.ok.sessionid);
  EXPECT_EQ(daemon().nfs().state.sessions(eid.clientid).size(), 2u);
}

TEST_F(SessionTest, CreateSessionWrongSequenceIsMisordered) {
  auto c = bare_client();
  auto eid = new_client(*c, unique_name("owner-"));
  EXPECT_EQ(create_session(*c, session_args(eid.clientid, eid.sequenceid + 5)).status,
            NFS4ERR_SEQ_MISORDERED);
  EXPECT_EQ(create_session(*c, session_args(eid.clientid, eid.sequenceid - 2)).status,
            NFS4ERR_SEQ_MISORDERED);
  // The refused requests changed nothing: the expected sequence still works.
  EXPECT_EQ(create_session(*c, session_args(eid.clientid, eid.sequenceid)).status, NFS4_OK);
}

TEST_F(SessionTest, CreateSessionUnknownClientIsStale) {
  auto c = bare_client();
  EXPECT_EQ(create_session(*c, session_args(0xdeadbeef12345678ull, 1)).status,
            NFS4ERR_STALE_CLIENTID);
}

TEST_F(SessionTest, CreateSessionByAnotherPrincipalIsClidInUse) {
  auto c = bare_client();
  auto eid = new_client(*c, unique_name("owner-"));
  // §18.36.4: only the principal that made an unconfirmed record may confirm it.
  NfsClient other("127.0.0.1", port(), 1000, 1000);
  EXPECT_EQ(create_session(other, session_args(eid.clientid, eid.sequenceid)).status,
            NFS4ERR_CLID_INUSE);
  EXPECT_EQ(create_session(*c, session_args(eid.clientid, eid.sequenceid)).status, NFS4_OK);
}

TEST_F(SessionTest, CreateSessionBackChannelFlagIsEchoed) {
  auto c = bare_client();
  auto eid = new_client(*c, unique_name("owner-"));
  auto args = session_args(eid.clientid, eid.sequenceid, 4,
                           CREATE_SESSION4_FLAG_CONN_BACK_CHAN | CREATE_SESSION4_FLAG_PERSIST);
  auto cs = create_session(*c, args);
  ASSERT_EQ(cs.status, NFS4_OK);
  EXPECT_NE(cs.ok.flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN, 0u);
  // No RDMA here, and a server may decline persistence; it must not invent flags.
  EXPECT_EQ(cs.ok.flags & ~(CREATE_SESSION4_FLAG_CONN_BACK_CHAN | CREATE_SESSION4_FLAG_PERSIST),
            0u);
  auto sessions = daemon().nfs().state.sessions(eid.clientid);
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0].back_connections, 1u);
  EXPECT_EQ(sessions[0].fore_connections, 1u);
}

// ---- SEQUENCE and the reply cache (§2.10.6, §18.46) ------------------------------------------

class SequenceTest : public Nfs4Test {
 protected:
  CompoundBuilder mkdir_ops(const std::string& name) {
    CreateArgs ca;
    ca.objtype.type = NF4DIR;
    ca.objname = name;
    return c->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_CREATE, ca).op(OP_GETFH);
  }
  size_t entries_in_export() {
    ReaddirArgs ra;
    ra.maxcount = 64 << 10;
    ra.dircount = 64 << 10;
    auto r = c->call(c->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_READDIR, ra));
    r.next_status(OP_PUTFH);
    auto rd = r.next<ReaddirResult>(OP_READDIR);
    EXPECT_EQ(rd.status, NFS4_OK);
    EXPECT_TRUE(rd.ok.eof);
    return rd.ok.entries.size();
  }
  nfsstat4 lookup_in_export(const std::string& name) {
    auto r = c->call(c->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_LOOKUP, ComponentArgs{name}));
    return r.status;
  }
};

TEST_F(SequenceTest, ReplayOfCachedRequestIsByteIdenticalAndNotReexecuted) {
  auto seq = c->next_sequence(0, /*cachethis=*/true);
  auto first = c->call_with(seq, mkdir_ops("once"));
  ASSERT_EQ(first.status, NFS4_OK);
  // The same request again on the same slot and sequence id: a retransmission.
  auto again = c->call_with(seq, mkdir_ops("once"));
  ASSERT_EQ(again.status, NFS4_OK) << "a re-executed CREATE would fail with EXIST";
  ASSERT_EQ(first.body().size(), again.body().size());
  EXPECT_TRUE(std::equal(first.body().begin(), first.body().end(), again.body().begin()));
  // Executed once: one directory, and the slot moves on normally afterwards.
  EXPECT_EQ(entries_in_export(), 1u);
  EXPECT_EQ(lookup_in_export("once"), NFS4_OK);
  auto third = c->call(mkdir_ops("once"), 0, true);
  EXPECT_EQ(third.status, NFS4ERR_EXIST);
}

TEST_F(SequenceTest, ReplayWithDifferentArgumentsIsFalseRetry) {
  auto seq = c->next_sequence(1, true);
  ASSERT_EQ(c->call_with(seq, mkdir_ops("a")).status, NFS4_OK);
  auto b = c->builder();
  b.op(OP_SEQUENCE, seq);
  CreateArgs ca;
  ca.objtype.type = NF4DIR;
  ca.objname = "b";
  b.op(OP_PUTFH, PutFhArgs{exp}).op(OP_CREATE, ca).op(OP_GETFH);
  auto r = c->compound(b);
  EXPECT_EQ(r.status, NFS4ERR_SEQ_FALSE_RETRY);
  ASSERT_EQ(r.count, 1u);  // only SEQUENCE's result
  EXPECT_EQ(r.next<SequenceResult>(OP_SEQUENCE).status, NFS4ERR_SEQ_FALSE_RETRY);
  EXPECT_EQ(lookup_in_export("b"), NFS4ERR_NOENT);
  EXPECT_EQ(entries_in_export(), 1u);
}

TEST_F(SequenceTest, RetryOfUncachedReplyIsRetryUncachedRep) {
  auto seq = c->next_sequence(0, /*cachethis=*/false);
  ASSERT_EQ(c->call_with(seq, mkdir_ops("nocache")).status, NFS4_OK);
  auto b = c->builder();
  b.op(OP_SEQUENCE, seq);
  CreateArgs ca;
  ca.objtype.type = NF4DIR;
  ca.objname = "nocache";
  b.op(OP_PUTFH, PutFhArgs{exp}).op(OP_CREATE, ca).op(OP_GETFH);
  auto r = c->compound(b);
  // §2.10.6.1.3: SEQUENCE itself MUST NOT fail with RETRY_UNCACHED_REP when it is first; the
  // second operation carries the error, and nothing is executed again.
  EXPECT_EQ(r.status, NFS4ERR_RETRY_UNCACHED_REP);
  ASSERT_EQ(r.count, 2u);
  auto sr = r.next<SequenceResult>(OP_SEQUENCE);
  EXPECT_EQ(sr.status, NFS4_OK);
  EXPECT_EQ(sr.ok.sessionid, c->sessionid);
  EXPECT_EQ(sr.ok.sequenceid, seq.sequenceid);
  EXPECT_EQ(sr.ok.slotid, seq.slotid);
  EXPECT_EQ(r.next_status(OP_PUTFH), NFS4ERR_RETRY_UNCACHED_REP);
  EXPECT_EQ(entries_in_export(), 1u);
}

TEST_F(SequenceTest, SequenceIdSkippingAheadIsMisordered) {
  ASSERT_EQ(c->call(c->builder(), 2).status, NFS4_OK);  // slot 2 is at 1
  auto seq = c->next_sequence(2);                       // 2
  seq.sequenceid += 1;                                  // 3: skips one
  auto r = c->compound(c->builder().op(OP_SEQUENCE, seq));
  EXPECT_EQ(r.next<SequenceResult>(OP_SEQUENCE).status, NFS4ERR_SEQ_MISORDERED);
  // The slot did not move: 2 is still the next one.
  seq.sequenceid -= 1;
  auto ok = c->compound(c->builder().op(OP_SEQUENCE, seq));
  EXPECT_EQ(ok.next<SequenceResult>(OP_SEQUENCE).status, NFS4_OK);
  // A sequence id older than the cached one is misordered too.
  seq.sequenceid -= 1;
  auto old = c->compound(c->builder().op(OP_SEQUENCE, seq));
  EXPECT_EQ(old.next<SequenceResult>(OP_SEQUENCE).status, NFS4ERR_SEQ_MISORDERED);
  // A new slot starts at 1: 0 and 2 are misordered.
  SequenceArgs fresh = c->next_sequence(5);
  fresh.sequenceid = 0;
  EXPECT_EQ(
      c->compound(c->builder().op(OP_SEQUENCE, fresh)).next<SequenceResult>(OP_SEQUENCE).status,
      NFS4ERR_SEQ_MISORDERED);
  fresh.sequenceid = 2;
  EXPECT_EQ(
      c->compound(c->builder().op(OP_SEQUENCE, fresh)).next<SequenceResult>(OP_SEQUENCE).status,
      NFS4ERR_SEQ_MISORDERED);
}

TEST_F(SequenceTest, SlotBeyondTableIsBadSlot) {
  SequenceArgs seq = c->next_sequence(0);
  seq.slotid = c->fore.maxrequests;  // one past the last slot
  auto r = c->compound(c->builder().op(OP_SEQUENCE, seq).op(OP_PUTROOTFH));
  EXPECT_EQ(r.status, NFS4ERR_BADSLOT);
  ASSERT_EQ(r.count, 1u);
  EXPECT_EQ(r.next<SequenceResult>(OP_SEQUENCE).status, NFS4ERR_BADSLOT);
  seq.slotid = 0xffffffffu;
  EXPECT_EQ(c->compound(c->builder().op(OP_SEQUENCE, seq)).status, NFS4ERR_BADSLOT);
}

TEST_F(SequenceTest, UnknownSessionIsBadSession) {
  SequenceArgs seq = c->next_sequence(0);
  seq.sessionid = random_session_id();
  auto r = c->compound(c->builder().op(OP_SEQUENCE, seq).op(OP_PUTROOTFH));
  EXPECT_EQ(r.status, NFS4ERR_BADSESSION);
  ASSERT_EQ(r.count, 1u);
  EXPECT_EQ(r.next<SequenceResult>(OP_SEQUENCE).status, NFS4ERR_BADSESSION);
}

TEST_F(SequenceTest, ResultReportsSlotIdsAndEchoesArguments) {
  auto seq = c->next_sequence(3);
  auto r = c->compound(c->builder().op(OP_SEQUENCE, seq));
  auto sr = r.next<SequenceResult>(OP_SEQUENCE);
  ASSERT_EQ(sr.status, NFS4_OK);
  EXPECT_EQ(sr.ok.sessionid, c->sessionid);
  EXPECT_EQ(sr.ok.sequenceid, seq.sequenceid);
  EXPECT_EQ(sr.ok.slotid, 3u);
  EXPECT_EQ(sr.ok.highest_slotid, c->fore.maxrequests - 1);
  EXPECT_LE(sr.ok.target_highest_slotid, sr.ok.highest_slotid);
  EXPECT_EQ(sr.ok.status_flags & SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED, 0u);
}

TEST_F(SequenceTest, DestroySessionThenBadSession) {
  // Inside the session, DESTROY_SESSION of it must be the last operation (§18.37.3; the RFC
  // names no error, so any refusal that leaves the session alive will do).
  auto bad =
      c->call(c->builder().op(OP_DESTROY_SESSION, SessionIdArgs{c->sessionid}).op(OP_PUTROOTFH));
  EXPECT_NE(bad.status, NFS4_OK);
  EXPECT_EQ(c->call(c->builder()).status, NFS4_OK);
  // As the last operation of a COMPOUND in the session itself.
  auto r =
      c->call(c->builder().op(OP_PUTROOTFH).op(OP_DESTROY_SESSION, SessionIdArgs{c->sessionid}));
  EXPECT_EQ(r.status, NFS4_OK);
  EXPECT_EQ(c->call(c->builder().op(OP_PUTROOTFH)).status, NFS4ERR_BADSESSION);
  auto again = c->compound(c->builder().op(OP_DESTROY_SESSION, SessionIdArgs{c->sessionid}));
  EXPECT_EQ(again.next_status(OP_DESTROY_SESSION), NFS4ERR_BADSESSION);

  // Alone, without SEQUENCE, on a connection bound to it.
  auto c2 = client();
  auto alone = c2->compound(c2->builder().op(OP_DESTROY_SESSION, SessionIdArgs{c2->sessionid}));
  EXPECT_EQ(alone.next_status(OP_DESTROY_SESSION), NFS4_OK);
  EXPECT_EQ(c2->call(c2->builder()).status, NFS4ERR_BADSESSION);
  // Without SEQUENCE it must be alone (§18.37.3).
  auto c3 = client();
  auto notalone = c3->compound(
      c3->builder().op(OP_DESTROY_SESSION, SessionIdArgs{c3->sessionid}).op(OP_PUTROOTFH));
  EXPECT_EQ(notalone.status, NFS4ERR_NOT_ONLY_OP);
  EXPECT_EQ(c3->call(c3->builder()).status, NFS4_OK);
}

TEST_F(SequenceTest, DestroyClientIdWithSessionIsBusy) {
  auto r = c->compound(c->builder().op(OP_DESTROY_CLIENTID, ClientIdArgs{c->clientid}));
  EXPECT_EQ(r.next_status(OP_DESTROY_CLIENTID), NFS4ERR_CLIENTID_BUSY);
  EXPECT_EQ(c->call(c->builder()).status, NFS4_OK);  // nothing was destroyed
  auto ds = c->compound(c->builder().op(OP_DESTROY_SESSION, SessionIdArgs{c->sessionid}));
  ASSERT_EQ(ds.next_status(OP_DESTROY_SESSION), NFS4_OK);
  auto dc = c->compound(c->builder().op(OP_DESTROY_CLIENTID, ClientIdArgs{c->clientid}));
  EXPECT_EQ(dc.next_status(OP_DESTROY_CLIENTID), NFS4_OK);
  EXPECT_EQ(create_session(*c, session_args(c->clientid, c->create_seq)).status,
            NFS4ERR_STALE_CLIENTID);
  auto dc2 = c->compound(c->builder().op(OP_DESTROY_CLIENTID, ClientIdArgs{c->clientid}));
  EXPECT_EQ(dc2.next_status(OP_DESTROY_CLIENTID), NFS4ERR_STALE_CLIENTID);
}

TEST_F(SequenceTest, DestroyClientIdWithOpenStateIsBusy) {
  // §18.50.3: opens and locks under an unexpired lease keep the client id busy too, even
  // with no session left.
  auto o = c->open_or_throw(exp, "held", OPEN4_SHARE_ACCESS_BOTH);
  auto ds = c->compound(c->builder().op(OP_DESTROY_SESSION, SessionIdArgs{c->sessionid}));
  ASSERT_EQ(ds.next_status(OP_DESTROY_SESSION), NFS4_OK);
  auto dc = c->compound(c->builder().op(OP_DESTROY_CLIENTID, ClientIdArgs{c->clientid}));
  EXPECT_EQ(dc.next_status(OP_DESTROY_CLIENTID), NFS4ERR_CLIENTID_BUSY);
  // The state survived: a new session of the same client id can still close the file.
  auto cs = create_session(*c, session_args(c->clientid, c->create_seq));
  ASSERT_EQ(cs.status, NFS4_OK);
  adopt_session(*c, c->clientid, cs.ok);
  EXPECT_EQ(c->close(o), NFS4_OK);
  // From another client's session, a client id with neither sessions nor state goes.
  auto ds2 = c->compound(c->builder().op(OP_DESTROY_SESSION, SessionIdArgs{c->sessionid}));
  ASSERT_EQ(ds2.next_status(OP_DESTROY_SESSION), NFS4_OK);
  auto other = client();
  auto r = other->call(other->builder().op(OP_DESTROY_CLIENTID, ClientIdArgs{c->clientid}));
  EXPECT_EQ(r.status, NFS4_OK);
  EXPECT_FALSE(daemon().nfs().state.client(c->clientid).has_value());
}

TEST_F(SequenceTest, ReclaimCompleteTwiceIsCompleteAlready) {
  // establish() already sent one.
  auto r = c->call(c->builder().op(OP_RECLAIM_COMPLETE, ReclaimCompleteArgs{false}));
  EXPECT_EQ(r.status, NFS4ERR_COMPLETE_ALREADY);
  EXPECT_EQ(r.next_status(OP_RECLAIM_COMPLETE), NFS4ERR_COMPLETE_ALREADY);
}

TEST_F(SessionTest, OpenBeforeReclaimCompleteIsGrace) {
  auto c = std::make_unique<NfsClient>("127.0.0.1", port());
  c->send_reclaim_complete = false;
  c->establish();
  Fh exp = c->lookup_path("/export");
  // §18.51.3: no new locking state before RECLAIM_COMPLETE; the refused OPEN creates nothing.
  auto o = do_open(*c, exp, open_args(*c, "early", OPEN4_SHARE_ACCESS_BOTH, 0, true));
  EXPECT_EQ(o.status, NFS4ERR_GRACE);
  auto look =
      c->call(c->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_LOOKUP, ComponentArgs{"early"}));
  EXPECT_EQ(look.status, NFS4ERR_NOENT);
  auto rc = c->call(c->builder().op(OP_RECLAIM_COMPLETE, ReclaimCompleteArgs{false}));
  ASSERT_EQ(rc.status, NFS4_OK);
  auto o2 = do_open(*c, exp, open_args(*c, "early", OPEN4_SHARE_ACCESS_BOTH, 0, true));
  EXPECT_EQ(o2.status, NFS4_OK);
}

// ---- what may come where in a COMPOUND (§2.6.3.1.1, §16.2.3) ---------------------------------

TEST_F(SequenceTest, FirstOpNotSequenceIsOpNotInSession) {
  auto r = c->compound(c->builder().op(OP_PUTROOTFH).op(OP_GETFH));
  EXPECT_EQ(r.status, NFS4ERR_OP_NOT_IN_SESSION);
  ASSERT_EQ(r.count, 1u);
  EXPECT_EQ(r.next_status(OP_PUTROOTFH), NFS4ERR_OP_NOT_IN_SESSION);
}

TEST_F(SequenceTest, SequenceNotFirstIsSequencePos) {
  auto r = c->call(c->builder().op(OP_PUTROOTFH).op(OP_SEQUENCE, c->next_sequence(1)));
  EXPECT_EQ(r.status, NFS4ERR_SEQUENCE_POS);
  r.next_status(OP_PUTROOTFH);
  EXPECT_EQ(r.next_status(OP_SEQUENCE), NFS4ERR_SEQUENCE_POS);
}

TEST_F(SequenceTest, ExchangeIdNotAloneIsNotOnlyOp) {
  auto r = c->compound(c->builder()
                           .op(OP_EXCHANGE_ID, exchange_args(unique_name("o-"), verifier_of(1)))
                           .op(OP_PUTROOTFH));
  EXPECT_EQ(r.status, NFS4ERR_NOT_ONLY_OP);
  ASSERT_EQ(r.count, 1u);
  EXPECT_EQ(r.next<ExchangeIdResult>(OP_EXCHANGE_ID).status, NFS4ERR_NOT_ONLY_OP);
  auto r2 = c->compound(c->builder()
                            .op(OP_CREATE_SESSION, session_args(c->clientid, c->create_seq))
                            .op(OP_PUTROOTFH));
  EXPECT_EQ(r2.status, NFS4ERR_NOT_ONLY_OP);
}

TEST_F(SequenceTest, EmptyCompoundIsOk) {
  auto r = c->compound(c->builder());
  EXPECT_EQ(r.status, NFS4_OK);
  EXPECT_EQ(r.count, 0u);
  CompoundBuilder tagged(1, "my-tag");
  auto r2 = c->compound(tagged);
  EXPECT_EQ(r2.status, NFS4_OK);
  EXPECT_EQ(r2.tag, "my-tag");  // the tag is echoed (§16.2.3)
}

TEST_F(SequenceTest, UnsupportedMinorVersionsAreMismatch) {
  for (uint32_t minor : {0u, 3u, 100u}) {
    SCOPED_TRACE(minor);
    CompoundBuilder b(minor, "mv");
    b.op(OP_PUTROOTFH).op(OP_GETFH);
    auto r = c->compound(b);
    EXPECT_EQ(r.status, NFS4ERR_MINOR_VERS_MISMATCH);
    EXPECT_EQ(r.count, 0u);  // no operation is executed
    EXPECT_EQ(r.tag, "mv");
  }
}

TEST_F(SequenceTest, UnknownOperationIsOpIllegal) {
  // First, without a session, and after SEQUENCE: the result names OP_ILLEGAL.
  for (bool in_session : {false, true}) {
    SCOPED_TRACE(in_session);
    auto b = in_session ? sequenced(*c, 0) : c->builder();
    b.op(5000u).op(OP_PUTROOTFH);
    auto r = c->compound(b);
    EXPECT_EQ(r.status, NFS4ERR_OP_ILLEGAL);
    if (in_session) {
      ASSERT_EQ(r.next<SequenceResult>(OP_SEQUENCE).status, NFS4_OK);
    }
    EXPECT_EQ(r.next_status(OP_ILLEGAL), NFS4ERR_OP_ILLEGAL);
    EXPECT_EQ(r.count, in_session ? 2u : 1u);
  }
  // Op 0, 1, 2 are not operations either, nor OP_ILLEGAL itself.
  for (uint32_t op : {0u, 1u, 2u, static_cast<uint32_t>(OP_ILLEGAL)}) {
    SCOPED_TRACE(op);
    auto r = c->compound(sequenced(*c, 0).op(op));
    EXPECT_EQ(r.status, NFS4ERR_OP_ILLEGAL);
  }
}

// NFSv4.2 argument shapes (RFC 7863), enough to send the operations.
struct SeekArgs {
  Stateid stateid;
  uint64_t offset = 0;
  uint32_t what = 0;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.stateid, s.offset, s.what);
  }
};
struct AllocateArgs {
  Stateid stateid;
  uint64_t offset = 0;
  uint64_t length = 0;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.stateid, s.offset, s.length);
  }
};

TEST_F(SessionTest, Minor2OperationsAreNotSuppUnder42AndIllegalUnder41) {
  auto c = std::make_unique<NfsClient>("127.0.0.1", port());
  c->minor_ = 2;
  c->establish();
  Fh exp = c->lookup_path("/export");
  auto o = c->open_or_throw(exp, "f", OPEN4_SHARE_ACCESS_BOTH);
  {
    auto r =
        c->call(c->builder().op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_SEEK, SeekArgs{o.stateid, 0, 1}));
    EXPECT_EQ(r.status, NFS4ERR_NOTSUPP);
    r.next_status(OP_PUTFH);
    EXPECT_EQ(r.next_status(OP_SEEK), NFS4ERR_NOTSUPP);
  }
  {
    auto r = c->call(
        c->builder().op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_ALLOCATE, AllocateArgs{o.stateid, 0, 10}));
    EXPECT_EQ(r.status, NFS4ERR_NOTSUPP);
  }
  // The same session under minor version 1: the 4.2 operations do not exist there.
  c->minor_ = 1;
  {
    auto r =
        c->call(c->builder().op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_SEEK, SeekArgs{o.stateid, 0, 1}));
    EXPECT_EQ(r.status, NFS4ERR_OP_ILLEGAL);
    r.next_status(OP_PUTFH);
    EXPECT_EQ(r.next_status(OP_ILLEGAL), NFS4ERR_OP_ILLEGAL);
  }
}

TEST_F(SequenceTest, TooManyOperationsIsTooManyOps) {
  // More than the session's ca_maxoperations: SEQUENCE refuses the request (§18.46.3).
  const uint32_t limit = c->fore.maxoperations;
  auto b = sequenced(*c, 0);
  for (uint32_t i = 0; i < limit; ++i)
    b.op(OP_PUTROOTFH);  // limit + 1 with SEQUENCE
  auto r = c->compound(b);
  EXPECT_EQ(r.status, NFS4ERR_TOO_MANY_OPS);
  ASSERT_EQ(r.count, 1u);
  EXPECT_EQ(r.next<SequenceResult>(OP_SEQUENCE).status, NFS4ERR_TOO_MANY_OPS);
  // Exactly at the limit is fine (the refused request did not use the slot's sequence id).
  c->slot_seq[0]--;
  auto ok = sequenced(*c, 0);
  for (uint32_t i = 1; i < limit; ++i)
    ok.op(OP_PUTROOTFH);
  EXPECT_EQ(c->compound(ok).status, NFS4_OK);

  // Beyond the server's own limit, with or without SEQUENCE.
  auto huge = c->builder();
  for (uint32_t i = 0; i < 1000; ++i)
    huge.op(OP_PUTROOTFH);
  auto rh = c->compound(huge);
  EXPECT_EQ(rh.status, NFS4ERR_TOO_MANY_OPS);
  EXPECT_LE(rh.count, 1u);
  auto hs = sequenced(*c, 1);
  for (uint32_t i = 0; i < 1000; ++i)
    hs.op(OP_PUTROOTFH);
  auto rs = c->compound(hs);
  EXPECT_EQ(rs.status, NFS4ERR_TOO_MANY_OPS);
  EXPECT_LE(rs.count, 1u);
  if (rs.count == 1) {
    EXPECT_EQ(rs.next<SequenceResult>(OP_SEQUENCE).status, NFS4ERR_TOO_MANY_OPS);
  }
}

TEST_F(SessionTest, ChannelSizeLimitsAreEnforced) {
  auto c = std::make_unique<NfsClient>("127.0.0.1", port());
  c->requested_fore = {0, 1024, 1u << 20, 512, 64, 4, {}};
  c->establish();
  ASSERT_EQ(c->fore.maxrequestsize, 1024u);
  ASSERT_EQ(c->fore.maxresponsesize_cached, 512u);
  Fh exp = c->lookup_path("/export");
  auto o = c->open_or_throw(exp, "f", OPEN4_SHARE_ACCESS_BOTH);
  // A request larger than ca_maxrequestsize is refused by SEQUENCE (§18.46.3), unexecuted.
  std::vector<uint8_t> big(2000, 'b');
  WriteArgs wa;
  wa.stateid = o.stateid;
  wa.stable = FILE_SYNC4;
  wa.data.bytes = big;
  auto r = c->call(c->builder().op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_WRITE, wa));
  EXPECT_EQ(r.status, NFS4ERR_REQ_TOO_BIG);
  c->slot_seq[0]--;  // the refused request did not use the slot
  EXPECT_EQ(get_attrs(*c, o.fh, {FATTR4_SIZE}).u64(FATTR4_SIZE), 0u);
  std::vector<uint8_t> small(600, 's');
  ASSERT_EQ(c->write(o, 0, small), NFS4_OK);
  // A reply larger than ca_maxresponsesize_cached cannot be cached: REP_TOO_BIG_TO_CACHE when
  // the client asks for caching, fine when it does not.
  auto cached = c->call(
      c->builder().op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_READ, ReadArgs{o.stateid, 0, 600}), 1,
      /*cachethis=*/true);
  EXPECT_EQ(cached.status, NFS4ERR_REP_TOO_BIG_TO_CACHE);
  auto plain = do_read(*c, o.fh, o.stateid, 0, 600);
  EXPECT_EQ(plain.status, NFS4_OK);
  EXPECT_EQ(plain.data.size(), 600u);
}

TEST_F(SessionTest, BindConnToSession) {
  auto c = client();
  NfsClient second("127.0.0.1", port());
  BindConnArgs bc;
  bc.sessionid = c->sessionid;
  bc.dir = CDFC4_FORE_OR_BOTH;
  auto r = second.compound(second.builder().op(OP_BIND_CONN_TO_SESSION, bc));
  auto res = r.next<BindConnResult>(OP_BIND_CONN_TO_SESSION);
  ASSERT_EQ(res.status, NFS4_OK);
  EXPECT_EQ(res.ok.sessionid, c->sessionid);
  EXPECT_TRUE(res.ok.dir == CDFS4_FORE || res.ok.dir == CDFS4_BOTH);
  EXPECT_FALSE(res.ok.use_conn_in_rdma_mode);
  // The second connection now carries the session's requests (slot numbering is shared).
  second.sessionid = c->sessionid;
  second.clientid = c->clientid;
  second.slot_seq = c->slot_seq;
  EXPECT_EQ(second.call(second.builder().op(OP_PUTROOTFH)).status, NFS4_OK);
  bc.sessionid = random_session_id();
  auto bad = second.compound(second.builder().op(OP_BIND_CONN_TO_SESSION, bc));
  EXPECT_EQ(bad.next<BindConnResult>(OP_BIND_CONN_TO_SESSION).status, NFS4ERR_BADSESSION);
}

// ---- leases (§8.3) ---------------------------------------------------------------------------

TEST_F(SessionTest, LeaseIsRenewedBySequenceAndExpiresWithout) {
  server::Config cfg;
  cfg.nfs.lease_time = 2;
  start(cfg);
  auto active = client();
  // Taken before the idle client's last renewal, so no correct server expires it sooner than
  // a lease after this.
  const auto start_time = std::chrono::steady_clock::now();
  auto idle = client();
  const uint64_t idle_id = idle->clientid;
  auto& state = daemon().nfs().state;
  ASSERT_TRUE(state.client(idle_id).has_value());

  // The active client keeps sending SEQUENCE; the idle one sends nothing.
  bool active_ok = true;
  bool expired = eventually(
      [&] {
        active_ok = active_ok && active->call(active->builder()).status == NFS4_OK;
        return !state.client(idle_id).has_value();
      },
      15s, 200ms);
  ASSERT_TRUE(expired) << "the idle client was never expired";
  EXPECT_TRUE(active_ok);
  EXPECT_GE(std::chrono::steady_clock::now() - start_time, 2s) << "expired before its lease";
  // Keep the active one going past another full lease.
  ASSERT_TRUE(eventually(
      [&] {
        active_ok = active_ok && active->call(active->builder()).status == NFS4_OK;
        return std::chrono::steady_clock::now() - start_time > 5s;
      },
      10s, 300ms));
  EXPECT_TRUE(active_ok);
  EXPECT_TRUE(state.client(active->clientid).has_value());

  // The expired client's session and client id are gone.
  EXPECT_EQ(idle->call(idle->builder()).status, NFS4ERR_BADSESSION);
  EXPECT_EQ(create_session(*idle, session_args(idle_id, idle->create_seq)).status,
            NFS4ERR_STALE_CLIENTID);
}

}  // namespace
}  // namespace dfs::testing
