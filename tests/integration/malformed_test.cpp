// Hostile and broken input over a real socket: truncated COMPOUNDs, operations whose
// arguments are cut short or malformed, lengths and counts larger than the record, random
// bytes, and clients that vanish mid-record or mid-call. The server must answer with an XDR
// error (NFS4ERR_BADXDR, or GARBAGE_ARGS: RFC 5661 §15.1.1.1 allows a server to pre-parse
// and fail at the RPC level) or close that one connection, and keep serving everyone else.

#include <netinet/in.h>
#include <sys/socket.h>

#include <random>

#include "nfs4_test_util.h"

namespace dfs::testing {
namespace {

using namespace std::chrono_literals;

// A COMPOUND4args written by hand.
class RawArgs {
 public:
  RawArgs(uint32_t count, uint32_t minor = 1, const std::string& tag = "") : e_(buf_) {
    e_.string(tag);
    e_.u32(minor);
    e_.u32(count);
  }
  xdr::Encoder& e() { return e_; }
  template <class Args>
  RawArgs& op(uint32_t opnum, const Args& args) {
    e_.u32(opnum);
    xdr::io(e_, args);
    return *this;
  }
  RawArgs& op(uint32_t opnum) {
    e_.u32(opnum);
    return *this;
  }
  RawArgs& u32(uint32_t v) {
    e_.u32(v);
    return *this;
  }
  RawArgs& bytes(std::span<const uint8_t> b) {
    buf_.append(b.data(), b.size());
    return *this;
  }
  std::span<const uint8_t> span() const { return buf_.span(); }

 private:
  xdr::ByteBuffer buf_;
  xdr::Encoder e_;
};

// What came back for a raw COMPOUND.
struct RawOutcome {
  bool replied = false;
  rpc::AcceptStat accept = rpc::AcceptStat::kSuccess;
  nfsstat4 status = NFS4_OK;
  uint32_t count = 0;
  std::vector<std::pair<uint32_t, uint32_t>> first;  // (op, status) of the first result
  bool xdr_error() const {
    return replied && (accept == rpc::AcceptStat::kGarbageArgs ||
                       (accept == rpc::AcceptStat::kSuccess && status == NFS4ERR_BADXDR));
  }
};

RawOutcome send_raw_compound(NfsClient& c, const RawArgs& args) {
  RawOutcome out;
  uint32_t xid = c.rpc().send_call(kProgram, kVersion, kProcCompound, args.span());
  if (xid == 0) return out;
  auto r = c.rpc().wait_reply(xid);
  if (!r) return out;
  out.replied = true;
  out.accept = r->header.accept;
  if (!r->accepted_success()) return out;
  xdr::Decoder d(r->body());
  uint32_t st = 0, op = 0, opst = 0;
  std::string tag;
  d.u32(st);
  d.string(tag);
  d.u32(out.count);
  out.status = static_cast<nfsstat4>(st);
  if (out.count > 0 && d.u32(op) && d.u32(opst)) out.first.emplace_back(op, opst);
  return out;
}

std::string describe(const RawOutcome& o) {
  return "replied=" + std::to_string(o.replied) +
         " accept=" + std::to_string(static_cast<uint32_t>(o.accept)) +
         " status=" + std::to_string(o.status) + " count=" + std::to_string(o.count);
}

class MalformedTest : public Nfs4Test {
 protected:
  void SetUp() override {
    Nfs4Test::SetUp();
    c->rpc().set_timeout(5000ms);
    bystander = client();  // connected before the abuse, used after it
    bystander->rpc().set_timeout(5000ms);
  }
  // Service continues: for the connection that was there before, and for a new one.
  void expect_healthy() {
    SCOPED_TRACE("health check");
    for (NfsClient* h : {bystander.get(), fresh().get()}) {
      EXPECT_TRUE(h->null_call());
      auto r = h->call(h->builder()
                           .op(OP_PUTROOTFH)
                           .op(OP_LOOKUP, ComponentArgs{"export"})
                           .op(OP_GETATTR, GetattrArgs{{FATTR4_TYPE}}));
      ASSERT_EQ(r.status, NFS4_OK);
      r.next_status(OP_PUTROOTFH);
      r.next_status(OP_LOOKUP);
      Attrs a(r.next<GetattrResult>(OP_GETATTR).ok.attrs);
      ASSERT_TRUE(a.ok());
      EXPECT_EQ(a.u32(FATTR4_TYPE), NF4DIR);
    }
  }
  std::unique_ptr<NfsClient>& fresh() {
    fresh_ = client();
    fresh_->rpc().set_timeout(5000ms);
    return fresh_;
  }
  // A SEQUENCE for `c` on slot 0 whose sequence id is taken back if the server did not
  // execute it (so later requests stay in order).
  SequenceArgs seq() { return c->next_sequence(0); }
  void settle(const RawOutcome& o) {
    bool used = o.replied && o.accept == rpc::AcceptStat::kSuccess && !o.first.empty() &&
                o.first[0].first == OP_SEQUENCE && o.first[0].second == NFS4_OK;
    if (!used) c->slot_seq[0]--;
  }

  std::unique_ptr<NfsClient> bystander;
  std::unique_ptr<NfsClient> fresh_;
};

// ---- truncated and short arguments -------------------------------------------------------------

TEST_F(MalformedTest, CompoundWithFewerOpsThanCountIsBadXdr) {
  RawArgs args(3);
  args.op(OP_SEQUENCE, seq()).op(OP_PUTROOTFH);  // a third operation never comes
  auto o = send_raw_compound(*c, args);
  EXPECT_TRUE(o.xdr_error()) << describe(o);
  if (o.accept == rpc::AcceptStat::kSuccess) {
    EXPECT_LE(o.count, 2u);  // the missing operation has no result
  }
  settle(o);
  // Without any operation at all.
  RawArgs none(2);
  auto o2 = send_raw_compound(*c, none);
  EXPECT_TRUE(o2.xdr_error()) << describe(o2);
  EXPECT_EQ(c->call(c->builder().op(OP_PUTROOTFH)).status, NFS4_OK);  // the session is fine
  expect_healthy();
}

TEST_F(MalformedTest, OperationArgumentsCutShortAreBadXdr) {
  // PUTFH whose handle claims 24 bytes but the record ends after 8.
  {
    RawArgs args(2);
    args.op(OP_SEQUENCE, seq()).u32(OP_PUTFH).u32(24).u32(0x01000000).u32(0);
    auto o = send_raw_compound(*c, args);
    EXPECT_TRUE(o.xdr_error()) << describe(o);
    settle(o);
  }
  // SEQUENCE itself cut short.
  {
    RawArgs args(1);
    args.u32(OP_SEQUENCE);
    std::vector<uint8_t> part(10, 0x11);
    args.bytes(part);
    auto o = send_raw_compound(*c, args);
    EXPECT_TRUE(o.xdr_error()) << describe(o);
  }
  // A boolean that is neither 0 nor 1 (SEQUENCE's sa_cachethis).
  {
    RawArgs args(2);
    auto s = seq();
    args.u32(OP_SEQUENCE);
    args.e()(s.sessionid, s.sequenceid, s.slotid, s.highest_slotid);
    args.u32(2).op(OP_PUTROOTFH);
    auto o = send_raw_compound(*c, args);
    EXPECT_TRUE(o.xdr_error()) << describe(o);
    settle(o);
  }
  // An enum value outside its type in a union discriminant (OPEN's claim type).
  {
    OpenArgs oa = open_args(*c, "x", OPEN4_SHARE_ACCESS_READ);
    xdr::ByteBuffer body;
    xdr::Encoder be(body);
    be(oa.seqid, oa.share_access, oa.share_deny, oa.owner);
    be.u32(OPEN4_NOCREATE);
    be.u32(77);  // no such open_claim_type4
    RawArgs args(3);
    args.op(OP_SEQUENCE, seq()).op(OP_PUTFH, PutFhArgs{exp}).u32(OP_OPEN).bytes(body.span());
    auto o = send_raw_compound(*c, args);
    EXPECT_TRUE(o.xdr_error()) << describe(o);
    settle(o);
  }
  EXPECT_EQ(c->call(c->builder().op(OP_PUTROOTFH)).status, NFS4_OK);
  expect_healthy();
}

TEST_F(MalformedTest, EnumValuesOutsideTheirTypeAreBadXdr) {
  // §15.1.1.1: a fixed enumeration with a value not valid for the enum is NFS4ERR_BADXDR.
  auto o = c->open_or_throw(exp, "f", OPEN4_SHARE_ACCESS_BOTH);
  {
    // WRITE with stable_how4 = 7.
    WriteArgs wa;
    wa.stateid = o.stateid;
    wa.stable = static_cast<stable_how4>(7);
    std::vector<uint8_t> data{1, 2, 3};
    wa.data.bytes = data;
    RawArgs args(3);
    args.op(OP_SEQUENCE, seq()).op(OP_PUTFH, PutFhArgs{o.fh});
    xdr::ByteBuffer body;
    xdr::Encoder be(body);
    be(wa.stateid, wa.offset, wa.stable);
    be.bytes(data);
    args.u32(OP_WRITE).bytes(body.span());
    auto r = send_raw_compound(*c, args);
    EXPECT_TRUE(r.xdr_error()) << describe(r);
    settle(r);
    EXPECT_EQ(get_attrs(*c, o.fh, {FATTR4_SIZE}).u64(FATTR4_SIZE), 0u);
  }
  {
    // LOCK, LOCKT and LOCKU with nfs_lock_type4 = 9.
    auto la = new_lock_args(*c, static_cast<nfs_lock_type4>(9), 0, 10, o.stateid, "lo");
    RawArgs args(3);
    args.op(OP_SEQUENCE, seq()).op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_LOCK, la);
    auto r = send_raw_compound(*c, args);
    EXPECT_TRUE(r.xdr_error()) << describe(r);
    settle(r);
    LocktArgs lt;
    lt.locktype = static_cast<nfs_lock_type4>(0);
    lt.length = 1;
    lt.owner.clientid = c->clientid;
    RawArgs args2(3);
    args2.op(OP_SEQUENCE, seq()).op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_LOCKT, lt);
    auto r2 = send_raw_compound(*c, args2);
    EXPECT_TRUE(r2.xdr_error()) << describe(r2);
    settle(r2);
    LockuArgs lu;
    lu.locktype = static_cast<nfs_lock_type4>(5);
    lu.stateid = o.stateid;
    lu.length = 1;
    RawArgs args3(3);
    args3.op(OP_SEQUENCE, seq()).op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_LOCKU, lu);
    auto r3 = send_raw_compound(*c, args3);
    EXPECT_TRUE(r3.xdr_error()) << describe(r3);
    settle(r3);
  }
  {
    // CREATE with nfs_ftype4 = 42 (NF4REG, a valid value, is BADTYPE instead: FileOpsTest).
    RawArgs args(3);
    args.op(OP_SEQUENCE, seq()).op(OP_PUTFH, PutFhArgs{exp}).u32(OP_CREATE).u32(42);
    args.e().string("odd");
    args.e()(Fattr{});
    auto r = send_raw_compound(*c, args);
    EXPECT_TRUE(r.xdr_error()) << describe(r);
    settle(r);
  }
  EXPECT_EQ(c->call(c->builder().op(OP_PUTROOTFH)).status, NFS4_OK);
  expect_healthy();
}

TEST_F(MalformedTest, LengthsBeyondTheRecordOrTheirBound) {
  // A tag claiming almost 2 GiB.
  {
    xdr::ByteBuffer b;
    xdr::Encoder e(b);
    e.u32(0x7ffffff0u);
    e.u32(1);
    e.u32(0);
    auto xid = c->rpc().send_call(kProgram, kVersion, kProcCompound, b.span());
    auto r = c->rpc().wait_reply(xid);
    ASSERT_TRUE(r);
    uint32_t status = 0;
    if (r->accepted_success()) xdr::Decoder(r->body()).u32(status);
    EXPECT_TRUE(r->header.accept == rpc::AcceptStat::kGarbageArgs ||
                (r->accepted_success() && status == NFS4ERR_BADXDR))
        << static_cast<uint32_t>(r->header.accept) << " " << status;
  }
  // A LOOKUP name longer than the record.
  {
    RawArgs args(3);
    args.op(OP_SEQUENCE, seq()).op(OP_PUTROOTFH).u32(OP_LOOKUP).u32(0x7ffffff0u).u32(0x61616161);
    auto o = send_raw_compound(*c, args);
    EXPECT_TRUE(o.xdr_error()) << describe(o);
    settle(o);
  }
  // A filehandle longer than NFS4_FHSIZE (opaque<128>), bytes present.
  {
    RawArgs args(2);
    std::vector<uint8_t> big(200, 1);
    args.op(OP_SEQUENCE, seq()).u32(OP_PUTFH).u32(200).bytes(big);
    auto o = send_raw_compound(*c, args);
    EXPECT_TRUE(o.xdr_error()) << describe(o);
    settle(o);
  }
  // A client owner longer than NFS4_OPAQUE_LIMIT.
  {
    auto other = bare_client();
    other->rpc().set_timeout(5000ms);
    ExchangeIdArgs ex = exchange_args(std::string(2000, 'o'), verifier_of(1));
    RawArgs args(1);
    args.op(OP_EXCHANGE_ID, ex);
    auto o = send_raw_compound(*other, args);
    EXPECT_TRUE(o.xdr_error()) << describe(o);
  }
  expect_healthy();
}

TEST_F(MalformedTest, HugeArrayCountsAreRefusedWithoutAllocating) {
  // GETATTR's bitmap4 with 2^32-1 words.
  {
    RawArgs args(3);
    args.op(OP_SEQUENCE, seq()).op(OP_PUTROOTFH).u32(OP_GETATTR).u32(0xffffffffu).u32(1);
    auto o = send_raw_compound(*c, args);
    EXPECT_TRUE(o.xdr_error()) << describe(o);
    settle(o);
  }
  // TEST_STATEID with 2^30 stateids.
  {
    RawArgs args(2);
    args.op(OP_SEQUENCE, seq()).u32(OP_TEST_STATEID).u32(0x40000000u);
    std::vector<uint8_t> one(16, 0);
    args.bytes(one);
    auto o = send_raw_compound(*c, args);
    EXPECT_TRUE(o.xdr_error()) << describe(o);
    settle(o);
  }
  // EXCHANGE_ID with a huge eia_client_impl_id array, and CREATE_SESSION with a huge
  // csa_sec_parms array.
  {
    auto other = bare_client();
    other->rpc().set_timeout(5000ms);
    ExchangeIdArgs ex = exchange_args(unique_name("o-"), verifier_of(1));
    RawArgs args(1);
    args.u32(OP_EXCHANGE_ID);
    args.e()(ex.clientowner, ex.flags, ex.state_protect);
    args.u32(0xfffffff0u);
    auto o = send_raw_compound(*other, args);
    EXPECT_TRUE(o.xdr_error()) << describe(o);

    CreateSessionArgs cs = session_args(1, 1);
    RawArgs args2(1);
    args2.u32(OP_CREATE_SESSION);
    args2.e()(cs.clientid, cs.sequence, cs.flags, cs.fore, cs.back, cs.cb_program);
    args2.u32(0x7fffffffu);
    auto o2 = send_raw_compound(*other, args2);
    EXPECT_TRUE(o2.xdr_error()) << describe(o2);
  }
  // A COMPOUND claiming 2^32-1 operations.
  {
    RawArgs args(0xffffffffu);
    args.op(OP_PUTROOTFH);
    auto o = send_raw_compound(*c, args);
    ASSERT_TRUE(o.replied);
    EXPECT_TRUE(o.xdr_error() || o.status == NFS4ERR_TOO_MANY_OPS) << describe(o);
  }
  EXPECT_EQ(c->call(c->builder().op(OP_PUTROOTFH)).status, NFS4_OK);
  expect_healthy();
}

// ---- random bytes ------------------------------------------------------------------------------

TEST_F(MalformedTest, RandomArgumentsAlwaysGetAnAnswer) {
  std::mt19937 rng(20240611);
  // Valid RPC calls whose COMPOUND arguments are noise.
  for (int i = 0; i < 100; ++i) {
    std::vector<uint8_t> noise(rng() % 300);
    for (auto& b : noise)
      b = static_cast<uint8_t>(rng());
    uint32_t xid = c->rpc().send_call(kProgram, kVersion, kProcCompound, noise);
    auto r = c->rpc().wait_reply(xid);
    ASSERT_TRUE(r) << "no reply to noise #" << i;
    EXPECT_EQ(r->xid, xid);
  }
  // A session's SEQUENCE followed by random operations with random arguments: each request
  // gets a reply, whatever the operations make of their arguments.
  for (int i = 0; i < 200; ++i) {
    const uint32_t nops = 1 + rng() % 4;
    RawArgs args(2 + nops);
    args.op(OP_SEQUENCE, seq()).op(OP_PUTFH, PutFhArgs{exp});
    for (uint32_t k = 0; k < nops; ++k) {
      args.u32(3 + rng() % 74);  // ACCESS .. past REMOVEXATTR
      std::vector<uint8_t> noise(rng() % 64);
      for (auto& b : noise)
        b = static_cast<uint8_t>(rng() % 4 == 0 ? rng() : 0);
      args.bytes(noise);
    }
    auto o = send_raw_compound(*c, args);
    ASSERT_TRUE(o.replied) << "no reply to random compound #" << i;
    settle(o);
  }
  EXPECT_EQ(c->call(c->builder().op(OP_PUTROOTFH)).status, NFS4_OK);
  expect_healthy();
}

TEST_F(MalformedTest, RecordOfRandomBytesClosesOnlyThatConnection) {
  std::mt19937 rng(7);
  for (int i = 0; i < 10; ++i) {
    auto noisy = bare_client();
    noisy->rpc().set_timeout(2000ms);
    xdr::ByteBuffer wire;
    xdr::Encoder e(wire);
    const uint32_t len = 8 + rng() % 500;
    e.u32(0x80000000u | len);
    for (uint32_t k = 0; k < len; ++k) {
      uint8_t b = static_cast<uint8_t>(rng());
      wire.append(&b, 1);
    }
    ASSERT_TRUE(noisy->rpc().send_raw(wire.span()));
    // Either a reply (an RPC-level error) or the connection closes; never a hang.
    auto rec = noisy->rpc().read_record();
    if (rec) {
      xdr::Decoder d(rec->span());
      uint32_t xid = 0, type = 0;
      d(xid, type);
      EXPECT_EQ(type, 1u) << "the server only ever sends replies here";
    }
  }
  expect_healthy();
}

// ---- vanishing clients
// ---------------------------------------------------------------------------

TEST_F(MalformedTest, DisconnectMidRecord) {
  {
    auto partial = bare_client();
    xdr::ByteBuffer wire;
    xdr::Encoder e(wire);
    e.u32(0x80000000u | 1000);  // promises 1000 bytes
    std::vector<uint8_t> some(100, 0x42);
    wire.append(some.data(), some.size());
    ASSERT_TRUE(partial->rpc().send_raw(wire.span()));
  }  // closed with the record unfinished
  {
    auto header_only = bare_client();
    const uint8_t half_mark[2] = {0x80, 0x00};
    ASSERT_TRUE(header_only->rpc().send_raw(half_mark));
  }
  {
    // A first fragment, then nothing.
    auto fragment = bare_client();
    xdr::ByteBuffer wire;
    xdr::Encoder e(wire);
    e.u32(8);  // not the last fragment
    e.u32(1);
    e.u32(0);
    ASSERT_TRUE(fragment->rpc().send_raw(wire.span()));
  }
  expect_healthy();
}

// Closes the socket with a reset, so the server's pending replies hit a dead connection.
void abort_connection(NfsClient& c) {
  linger lg{1, 0};
  ::setsockopt(c.rpc().fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  c.rpc().close();
}

TEST_F(MalformedTest, DisconnectMidCallWithRepliesPending) {
  // A file with some content, so READ replies are large.
  auto o = c->open_or_throw(exp, "data", OPEN4_SHARE_ACCESS_BOTH);
  std::vector<uint8_t> data(512 << 10, 0x33);
  ASSERT_EQ(c->write(o, 0, data), NFS4_OK);
  ASSERT_EQ(c->write(o, data.size(), data), NFS4_OK);
  for (int round = 0; round < 5; ++round) {
    auto v = client();
    // Many calls in flight, then the client is gone before reading any reply.
    for (uint32_t slot = 0; slot < v->fore.maxrequests; ++slot) {
      v->send(sequenced(*v, slot)
                  .op(OP_PUTFH, PutFhArgs{o.fh})
                  .op(OP_READ, ReadArgs{Stateid{}, 0, 1 << 20}));
    }
    for (int k = 0; k < 20; ++k)
      v->rpc().send_call(kProgram, kVersion, kProcNull, {});
    abort_connection(*v);
  }
  // Half-closed clients: the server sees EOF while it still has megabytes of replies to
  // write, and the peer resets once it is gone, so the writes that follow fail.
  for (int round = 0; round < 5; ++round) {
    auto v = client();
    for (uint32_t slot = 0; slot < v->fore.maxrequests; ++slot) {
      v->send(sequenced(*v, slot)
                  .op(OP_PUTFH, PutFhArgs{o.fh})
                  .op(OP_READ, ReadArgs{Stateid{}, 0, 1 << 20}));
    }
    ::shutdown(v->rpc().fd(), SHUT_WR);
    EXPECT_TRUE(v->rpc().read_record());  // the server is writing now
    v->rpc().close();  // unread replies: the kernel answers the server with a reset
  }
  expect_healthy();
  // The aborted clients' sessions outlive their connections (§2.10.3): a new connection may
  // keep using one.
  auto v = client();
  const auto sid = v->sessionid;
  const uint64_t cid = v->clientid;
  abort_connection(*v);
  NfsClient again("127.0.0.1", port());
  again.rpc().set_timeout(5000ms);
  again.clientid = cid;
  again.sessionid = sid;
  again.slot_seq = v->slot_seq;
  EXPECT_EQ(again.call(again.builder().op(OP_PUTROOTFH)).status, NFS4_OK);
}

TEST_F(MalformedTest, RetryAfterDisconnectReplaysTheCachedReply) {
  // The client sends a CREATE, loses its connection before the reply, reconnects and
  // retries on the same slot and sequence id: it must get the original outcome, and the
  // directory must exist once (§2.10.6.1, exactly once across connections).
  const auto seqargs = c->next_sequence(3, /*cachethis=*/true);
  CreateArgs ca;
  ca.objtype.type = NF4DIR;
  ca.objname = "once";
  auto ops = c->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_CREATE, ca).op(OP_GETFH);
  {
    NfsClient lost("127.0.0.1", port());
    lost.sessionid = c->sessionid;
    lost.clientid = c->clientid;
    CompoundBuilder full(1);
    full.op(OP_SEQUENCE, seqargs);
    full.op(OP_PUTFH, PutFhArgs{exp}).op(OP_CREATE, ca).op(OP_GETFH);
    ASSERT_NE(lost.send(full), 0u);
    abort_connection(lost);
  }
  NfsClient retry("127.0.0.1", port());
  retry.rpc().set_timeout(5000ms);
  retry.sessionid = c->sessionid;
  retry.clientid = c->clientid;
  nfsstat4 st = NFS4ERR_DELAY;
  // The original may still be executing (DELAY) or may have been dropped with its
  // connection (then the retry is the first execution); either way the answer is success.
  ASSERT_TRUE(eventually(
      [&] {
        st = retry.call_with(seqargs, ops).status;
        return st != NFS4ERR_DELAY;
      },
      5000ms, 20ms));
  EXPECT_EQ(st, NFS4_OK);
  ReaddirArgs ra;
  ra.maxcount = 8192;
  ra.dircount = 8192;
  auto r = c->call(c->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_READDIR, ra));
  ASSERT_EQ(r.status, NFS4_OK);
  r.next_status(OP_PUTFH);
  auto rd = r.next<ReaddirResult>(OP_READDIR);
  ASSERT_EQ(rd.ok.entries.size(), 1u);
  EXPECT_EQ(rd.ok.entries[0].name, "once");
  expect_healthy();
}

}  // namespace
}  // namespace dfs::testing
