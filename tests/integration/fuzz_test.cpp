// Randomised hostile input (deterministic seeds): valid COMPOUNDs with bytes flipped, words
// replaced by extreme values, and records cut short or extended, sent to a real server over
// real connections. Whatever comes back, the server must stay up and keep serving a healthy
// client correctly (and, under the sanitizers, touch no memory it should not).

#include <random>

#include "nfs4_test_util.h"
#include "server_fixture.h"

namespace dfs::testing {
namespace {

class FuzzTest : public ServerTest {};

// A set of well-formed requests covering most argument shapes. None of them, sent as is,
// ends the session or the open the others use (so mutations keep reaching the ops).
std::vector<xdr::ByteBuffer> seed_requests(NfsClient& c, const Fh& dir, const Fh& file,
                                           const Stateid& sid) {
  std::vector<CompoundBuilder> builders;
  auto with_seq = [&](uint32_t slot) {
    CompoundBuilder b(1);
    b.op(OP_SEQUENCE, c.next_sequence(slot));
    return b;
  };
  builders.push_back(with_seq(0)
                         .op(OP_PUTROOTFH)
                         .op(OP_LOOKUP, ComponentArgs{"export"})
                         .op(OP_GETATTR, GetattrArgs{Bitmap{1, 3, 4, 20, 33, 35, 36, 55}}));
  builders.push_back(with_seq(1)
                         .op(OP_PUTFH, PutFhArgs{dir})
                         .op(OP_READDIR, ReaddirArgs{0, {}, 4096, 8192, Bitmap{1, 20}}));
  OpenArgs oa;
  oa.share_access = OPEN4_SHARE_ACCESS_BOTH;
  oa.owner.clientid = c.clientid;
  oa.owner.owner = {'f', 'z'};
  oa.how.opentype = OPEN4_CREATE;
  oa.claim.file = "fuzzed";
  builders.push_back(with_seq(2).op(OP_PUTFH, PutFhArgs{dir}).op(OP_OPEN, oa).op(OP_GETFH));
  WriteArgs wa;
  wa.stateid = sid;
  std::vector<uint8_t> data(300, 0x5a);
  wa.data.bytes = data;
  builders.push_back(with_seq(3).op(OP_PUTFH, PutFhArgs{file}).op(OP_WRITE, wa));
  LockArgs la;
  la.locktype = WRITE_LT;
  la.length = 10;
  la.locker.new_lock_owner = true;
  la.locker.open_stateid = sid;
  la.locker.lock_owner = {c.clientid, {'l'}};
  builders.push_back(with_seq(4).op(OP_PUTFH, PutFhArgs{file}).op(OP_LOCK, la));
  CreateArgs ca;
  ca.objtype.type = NF4LNK;
  ca.objtype.linkdata = "target";
  ca.objname = "link";
  builders.push_back(with_seq(5)
                         .op(OP_PUTFH, PutFhArgs{dir})
                         .op(OP_CREATE, ca)
                         .op(OP_RENAME, RenameArgs{"a", "b"}));
  builders.push_back(with_seq(6)
                         .op(OP_PUTFH, PutFhArgs{file})
                         .op(OP_SETATTR, SetattrArgs{sid, AttrBuilder()
                                                              .u64(FATTR4_SIZE, 4096)
                                                              .u32(FATTR4_MODE, 0640)
                                                              .str(FATTR4_OWNER, "0")
                                                              .build()})
                         .op(OP_VERIFY, VerifyArgs{AttrBuilder().u64(FATTR4_SIZE, 4096).build()})
                         .op(OP_READ, ReadArgs{sid, 0, 8192})
                         .op(OP_COMMIT, CommitArgs{0, 0}));
  LocktArgs lt;
  lt.length = 100;
  lt.owner = {c.clientid, {'t'}};
  builders.push_back(with_seq(7)
                         .op(OP_PUTFH, PutFhArgs{file})
                         .op(OP_LOCKT, lt)
                         .op(OP_LOCKU, LockuArgs{WRITE_LT, 0, sid, 0, 10})
                         .op(OP_TEST_STATEID, TestStateidArgs{{sid, sid}})
                         .op(OP_FREE_STATEID, StateidArgs{sid})
                         .op(OP_OPEN_DOWNGRADE, OpenDowngradeArgs{sid, 0, 3, 0}));
  builders.push_back(with_seq(8)
                         .op(OP_PUTFH, PutFhArgs{file})
                         .op(OP_SAVEFH)
                         .op(OP_PUTFH, PutFhArgs{dir})
                         .op(OP_LINK, ComponentArgs{"hard"})
                         .op(OP_LOOKUPP)
                         .op(OP_SECINFO_NO_NAME, SecInfoNoNameArgs{})
                         .op(OP_ACCESS, AccessArgs{0x3f})
                         .op(OP_RESTOREFH)
                         .op(OP_REMOVE, ComponentArgs{"hard"}));
  builders.push_back(with_seq(9)
                         .op(OP_BIND_CONN_TO_SESSION, BindConnArgs{c.sessionid, CDFC4_FORE, false})
                         .op(OP_RECLAIM_COMPLETE, ReclaimCompleteArgs{true})
                         .op(OP_DESTROY_CLIENTID, ClientIdArgs{c.clientid + 1}));
  ExchangeIdArgs ex;
  ex.clientowner.ownerid = {'x'};
  builders.push_back(CompoundBuilder(1).op(OP_EXCHANGE_ID, ex));
  CreateSessionArgs cs;
  cs.clientid = c.clientid;
  cs.fore.maxrequestsize = cs.fore.maxresponsesize = 65536;
  cs.fore.maxoperations = 16;
  cs.fore.maxrequests = 4;
  cs.back = cs.fore;
  builders.push_back(CompoundBuilder(1).op(OP_CREATE_SESSION, cs));
  std::vector<xdr::ByteBuffer> out;
  for (auto& b : builders)
    out.push_back(b.encode());
  return out;
}

xdr::ByteBuffer mutate(const xdr::ByteBuffer& in, std::mt19937& rng) {
  xdr::ByteBuffer m = in;
  std::uniform_int_distribution<int> kind(0, 5);
  int rounds = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < rounds && m.size() > 0; ++i) {
    size_t at = rng() % m.size();
    switch (kind(rng)) {
      case 0:  // flip a bit
        m.data()[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
        break;
      case 1:  // a word becomes an extreme value (lengths, counts, enums)
        if (m.size() >= 4) {
          at &= ~size_t{3};
          uint32_t v =
              std::array<uint32_t, 5>{0xffffffffu, 0x7fffffffu, 0x80000000u, 0, 4096}[rng() % 5];
          m.data()[at] = static_cast<uint8_t>(v >> 24);
          m.data()[at + 1] = static_cast<uint8_t>(v >> 16);
          m.data()[at + 2] = static_cast<uint8_t>(v >> 8);
          m.data()[at + 3] = static_cast<uint8_t>(v);
        }
        break;
      case 2:  // cut short
        m.resize(at);
        break;
      case 3: {  // random bytes appended
        size_t n = rng() % 64;
        for (size_t k = 0; k < n; ++k) {
          uint8_t b = static_cast<uint8_t>(rng());
          m.append(&b, 1);
        }
        break;
      }
      default:  // a random byte
        m.data()[at] = static_cast<uint8_t>(rng());
        break;
    }
  }
  return m;
}

TEST_F(FuzzTest, MutatedCompoundsNeverHurtTheServer) {
  auto setup = client();
  Fh dir = setup->lookup_path("/export");
  auto f = setup->open_or_throw(dir, "target-file", OPEN4_SHARE_ACCESS_BOTH);
  auto seeds = seed_requests(*setup, dir, f.fh, f.stateid);

  std::mt19937 rng(20261121);
  auto victim = std::make_unique<NfsClient>("127.0.0.1", port());
  victim->rpc().set_timeout(std::chrono::milliseconds(2000));
  int sent = 0, answered = 0, reconnects = 0;
  for (int i = 0; i < 3000; ++i) {
    auto m = mutate(seeds[rng() % seeds.size()], rng);
    uint32_t xid = victim->rpc().send_call(kProgram, kVersion, kProcCompound, m.span());
    ++sent;
    auto reply = xid ? victim->rpc().wait_reply(xid) : std::nullopt;
    if (reply) {
      ++answered;
      continue;
    }
    // No reply: the server closed the connection (or the record is incomplete and it waits
    // for more). Either way, start over on a new connection.
    victim = std::make_unique<NfsClient>("127.0.0.1", port());
    victim->rpc().set_timeout(std::chrono::milliseconds(2000));
    ++reconnects;
  }
  EXPECT_GT(answered, sent / 2);  // most mutations are answered with an error, not a hang-up

  // Whole records mutated, RPC header included (the record mark is fixed up so the server
  // sees exactly one record): it answers or closes the connection, never more.
  for (int i = 0; i < 1500; ++i) {
    const auto& seed = seeds[rng() % seeds.size()];
    xdr::ByteBuffer call;
    xdr::Encoder e(call);
    e.u32(0);  // record mark, patched below
    e.u32(static_cast<uint32_t>(i));
    e.u32(0);  // CALL
    e.u32(2);
    e.u32(kProgram);
    e.u32(kVersion);
    e.u32(kProcCompound);
    e.u32(1);  // AUTH_SYS
    auto cred = rpc::encode_auth_sys(0, "fuzz", 0, 0, {});
    e.bytes(cred);
    e.u32(0);
    e.u32(0);
    call.append(seed.data(), seed.size());
    xdr::ByteBuffer body;
    body.append(call.data() + 4, call.size() - 4);
    auto m = mutate(body, rng);
    xdr::ByteBuffer wire;
    xdr::Encoder w(wire);
    w.u32(0x80000000u | static_cast<uint32_t>(m.size()));
    wire.append(m.data(), m.size());
    ++sent;
    if (!victim->rpc().send_raw(wire.span()) || !victim->rpc().read_record()) {
      victim = std::make_unique<NfsClient>("127.0.0.1", port());
      victim->rpc().set_timeout(std::chrono::milliseconds(2000));
      ++reconnects;
    }
  }
  // The server is intact: a healthy client works end to end.
  auto healthy = client();
  Fh hdir = healthy->lookup_path("/export");
  auto hf = healthy->open_or_throw(hdir, "after-fuzz", OPEN4_SHARE_ACCESS_BOTH);
  std::vector<uint8_t> payload(5000, 0x42), back;
  ASSERT_EQ(healthy->write(hf, 0, payload), NFS4_OK);
  ASSERT_EQ(healthy->read(hf, 0, 5000, back), NFS4_OK);
  EXPECT_EQ(back, payload);
  EXPECT_EQ(healthy->close(hf), NFS4_OK);
  RecordProperty("reconnects", reconnects);
}

TEST_F(FuzzTest, MutatedHeadsOfLargeWritesNeverHurtTheServer) {
  // WRITEs large enough for the transport to parse their head early and receive the data
  // out of line (rpc::RecordHandler::place), with the head (RPC arguments up to and just past
  // the WRITE's length word) mutated: wrong lengths, offsets, op numbers, cut or grown heads.
  auto setup = client();
  Fh dir = setup->lookup_path("/export");
  auto f = setup->open_or_throw(dir, "large-target", OPEN4_SHARE_ACCESS_BOTH);
  std::vector<uint8_t> payload(512u << 10);
  for (size_t i = 0; i < payload.size(); ++i)
    payload[i] = static_cast<uint8_t>(i * 7);
  std::mt19937 rng(112026);
  auto victim = std::make_unique<NfsClient>("127.0.0.1", port());
  victim->rpc().set_timeout(std::chrono::milliseconds(2000));
  int answered = 0;
  constexpr int kRounds = 300;
  for (int i = 0; i < kRounds; ++i) {
    WriteArgs wa;
    wa.stateid = f.stateid;
    wa.offset = (rng() % 8) * 100000;
    wa.stable = UNSTABLE4;
    wa.data.bytes = payload;
    CompoundBuilder b(1);
    b.op(OP_SEQUENCE, setup->next_sequence(rng() % 4))
        .op(OP_PUTFH, PutFhArgs{f.fh})
        .op(OP_WRITE, wa)
        .op(OP_GETATTR, GetattrArgs{Bitmap{4}});
    auto whole = b.encode();
    const size_t head = whole.size() - payload.size() - 16;  // GETATTR is the last 16 bytes
    xdr::ByteBuffer front;
    front.append(whole.data(), head);
    auto m = mutate(front, rng);
    m.append(whole.data() + head, whole.size() - head);
    uint32_t xid = victim->rpc().send_call(kProgram, kVersion, kProcCompound, m.span());
    if (xid && victim->rpc().wait_reply(xid)) {
      ++answered;
      continue;
    }
    victim = std::make_unique<NfsClient>("127.0.0.1", port());
    victim->rpc().set_timeout(std::chrono::milliseconds(2000));
  }
  EXPECT_GT(answered, kRounds / 2);
  // The server is intact, and a large WRITE still round-trips.
  auto healthy = client();
  Fh hdir = healthy->lookup_path("/export");
  auto hf = healthy->open_or_throw(hdir, "after-large-fuzz", OPEN4_SHARE_ACCESS_BOTH);
  std::vector<uint8_t> back;
  ASSERT_EQ(healthy->write(hf, 4096, payload), NFS4_OK);
  ASSERT_EQ(healthy->read(hf, 4096, static_cast<uint32_t>(payload.size()), back), NFS4_OK);
  EXPECT_TRUE(back == payload);
  EXPECT_EQ(healthy->close(hf), NFS4_OK);
}

}  // namespace
}  // namespace dfs::testing
