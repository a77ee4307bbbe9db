// RPC layer over a real socket: NULL, program/version/procedure errors, auth errors,
// record marking, malformed records.

#include <signal.h>
#include <sys/socket.h>

#include "server_fixture.h"

namespace dfs::testing {
namespace {

class RpcTest : public ServerTest {};

TEST_F(RpcTest, NullProcedureAnswers) {
  auto c = bare_client();
  EXPECT_TRUE(c->null_call());
}

TEST_F(RpcTest, UnknownProgramIsProgUnavail) {
  auto c = bare_client();
  auto r = c->rpc().call(100005, 3, 0, {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header.stat, rpc::ReplyStat::kAccepted);
  EXPECT_EQ(r->header.accept, rpc::AcceptStat::kProgUnavail);
}

TEST_F(RpcTest, WrongVersionIsProgMismatchWithRange) {
  auto c = bare_client();
  auto r = c->rpc().call(100003, 3, 0, {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header.accept, rpc::AcceptStat::kProgMismatch);
  EXPECT_EQ(r->header.mismatch_low, 4u);
  EXPECT_EQ(r->header.mismatch_high, 4u);
}

TEST_F(RpcTest, UnknownProcedureIsProcUnavail) {
  auto c = bare_client();
  auto r = c->rpc().call(100003, 4, 7, {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header.accept, rpc::AcceptStat::kProcUnavail);
}

TEST_F(RpcTest, UnsupportedAuthFlavorIsAuthError) {
  // A hand-built call with flavor RPCSEC_GSS (6).
  xdr::ByteBuffer buf;
  xdr::Encoder e(buf);
  e.u32(0x80000000u | 44);
  e.u32(1234);  // xid
  e.u32(0);     // CALL
  e.u32(2);
  e.u32(100003);
  e.u32(4);
  e.u32(0);
  e.u32(6);  // cred flavor
  e.u32(4);
  e.u32(0);
  e.u32(0);  // verf AUTH_NONE
  e.u32(0);
  auto c = bare_client();
  ASSERT_TRUE(c->rpc().send_raw(buf.span()));
  auto rec = c->rpc().read_record();
  ASSERT_TRUE(rec);
  xdr::Decoder d(rec->span());
  uint32_t xid, type, stat, reject, auth;
  d.u32(xid);
  d.u32(type);
  d.u32(stat);
  d.u32(reject);
  d.u32(auth);
  EXPECT_EQ(xid, 1234u);
  EXPECT_EQ(stat, 1u);    // MSG_DENIED
  EXPECT_EQ(reject, 1u);  // AUTH_ERROR
  EXPECT_EQ(auth, 1u);    // AUTH_BADCRED
}

TEST_F(RpcTest, WrongRpcVersionIsRpcMismatch) {
  xdr::ByteBuffer buf;
  xdr::Encoder e(buf);
  e.u32(0x80000000u | 40);
  e.u32(99);
  e.u32(0);
  e.u32(3);  // rpcvers 3
  e.u32(100003);
  e.u32(4);
  e.u32(0);
  e.u32(0);
  e.u32(0);
  e.u32(0);
  e.u32(0);
  auto c = bare_client();
  ASSERT_TRUE(c->rpc().send_raw(buf.span()));
  auto rec = c->rpc().read_record();
  ASSERT_TRUE(rec);
  xdr::Decoder d(rec->span());
  uint32_t xid, type, stat, reject, low, high;
  d(xid, type, stat, reject, low, high);
  EXPECT_EQ(stat, 1u);
  EXPECT_EQ(reject, 0u);  // RPC_MISMATCH
  EXPECT_EQ(low, 2u);
  EXPECT_EQ(high, 2u);
}

TEST_F(RpcTest, MultiFragmentRecordIsAssembled) {
  // A NULL call split into three fragments.
  xdr::ByteBuffer body;
  xdr::Encoder e(body);
  e.u32(777);
  e.u32(0);
  e.u32(2);
  e.u32(100003);
  e.u32(4);
  e.u32(0);
  e.u32(0);
  e.u32(0);
  e.u32(0);
  e.u32(0);
  xdr::ByteBuffer wire;
  xdr::Encoder w(wire);
  size_t cuts[] = {0, 12, 28, body.size()};
  for (int i = 0; i < 3; ++i) {
    uint32_t len = static_cast<uint32_t>(cuts[i + 1] - cuts[i]);
    w.u32((i == 2 ? 0x80000000u : 0) | len);
    wire.append(body.data() + cuts[i], len);
  }
  auto c = bare_client();
  ASSERT_TRUE(c->rpc().send_raw(wire.span()));
  auto rec = c->rpc().read_record();
  ASSERT_TRUE(rec);
  xdr::Decoder d(rec->span());
  uint32_t xid, type, stat, vf, vl, accept;
  d(xid, type, stat, vf, vl, accept);
  EXPECT_EQ(xid, 777u);
  EXPECT_EQ(accept, 0u);
}

TEST_F(RpcTest, OversizedRecordClosesConnectionOthersUnaffected) {
  auto other = bare_client();
  auto c = bare_client();
  xdr::ByteBuffer wire;
  xdr::Encoder e(wire);
  e.u32(0x80000000u | (64u << 20));  // claims 64 MiB, above the 4 MiB default
  e.u32(1);
  ASSERT_TRUE(c->rpc().send_raw(wire.span()));
  EXPECT_TRUE(c->rpc().wait_closed());
  EXPECT_TRUE(other->null_call());
}

TEST_F(RpcTest, GarbageHeaderClosesConnectionOthersUnaffected) {
  auto other = bare_client();
  auto c = bare_client();
  xdr::ByteBuffer wire;
  xdr::Encoder e(wire);
  e.u32(0x80000000u | 4);
  e.u32(42);  // only an xid: not a message
  ASSERT_TRUE(c->rpc().send_raw(wire.span()));
  EXPECT_TRUE(c->rpc().wait_closed());
  EXPECT_TRUE(other->null_call());
}

TEST_F(RpcTest, TruncatedCallHeaderIsGarbageArgs) {
  xdr::ByteBuffer wire;
  xdr::Encoder e(wire);
  e.u32(0x80000000u | 20);
  e.u32(5);  // xid
  e.u32(0);  // CALL
  e.u32(2);
  e.u32(100003);
  e.u32(4);  // no procedure or credentials
  auto c = bare_client();
  ASSERT_TRUE(c->rpc().send_raw(wire.span()));
  auto rec = c->rpc().read_record();
  ASSERT_TRUE(rec);
  xdr::Decoder d(rec->span());
  uint32_t xid, type, stat, vf, vl, accept;
  d(xid, type, stat, vf, vl, accept);
  EXPECT_EQ(xid, 5u);
  EXPECT_EQ(accept, static_cast<uint32_t>(rpc::AcceptStat::kGarbageArgs));
}

TEST_F(RpcTest, ManyOutstandingCallsAllAnswered) {
  auto c = bare_client();
  std::vector<uint32_t> xids;
  for (int i = 0; i < 100; ++i)
    xids.push_back(c->rpc().send_call(100003, 4, 0, {}));
  for (auto it = xids.rbegin(); it != xids.rend(); ++it) {
    auto r = c->rpc().wait_reply(*it);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->accepted_success());
  }
}

}  // namespace
}  // namespace dfs::testing

namespace dfs::testing {
namespace {

// A client that sends a burst of calls and vanishes: the server's replies then hit a closed
// socket. With the default SIGPIPE disposition a plain write would kill the process; the
// transport must get EPIPE instead and go on serving others.
TEST_F(RpcTest, PeerVanishingMidBurstLeavesTheServerServing) {
  struct sigaction dfl {
  }, old{};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ASSERT_EQ(sigaction(SIGPIPE, &dfl, &old), 0);
  xdr::ByteBuffer burst;
  {
    xdr::Encoder e(burst);
    for (uint32_t i = 0; i < 2000; ++i) {
      e.u32(0x80000000u | 40);
      e.u32(i);
      e.u32(0);
      e.u32(2);
      e.u32(100003);
      e.u32(4);
      e.u32(0);
      e.u32(0);
      e.u32(0);
      e.u32(0);
      e.u32(0);
    }
  }
  for (int round = 0; round < 20; ++round) {
    auto c = bare_client();
    ASSERT_TRUE(c->rpc().send_raw(burst.span()));
    // Reset rather than a graceful close, so the server's next write fails at once.
    linger lg{1, 0};
    ::setsockopt(c->rpc().fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    c->rpc().close();
  }
  auto other = bare_client();
  EXPECT_TRUE(other->null_call());
  sigaction(SIGPIPE, &old, nullptr);
}

}  // namespace
}  // namespace dfs::testing
