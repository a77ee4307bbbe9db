// OPEN, READ, WRITE, COMMIT and stateids over a real socket (RFC 5661 §8.2, §16.2.3.1.2,
// §18.2, §18.3, §18.16, §18.18, §18.22, §18.32, §18.38, §18.48, §18.6): the create modes and
// claim types, data round trips, write verifiers, and every way a stateid can be wrong.

#include <numeric>

#include "nfs4_test_util.h"

namespace dfs::testing {
namespace {

class IoTest : public Nfs4Test {
 protected:
  OpenOutcome open(const OpenArgs& oa) { return do_open(*c, exp, oa); }
  OpenOutcome create(const std::string& name, uint32_t access = OPEN4_SHARE_ACCESS_BOTH,
                     const std::string& owner = "owner") {
    auto o = open(open_args(*c, name, access, 0, true, UNCHECKED4, owner));
    EXPECT_EQ(o.status, NFS4_OK);
    return o;
  }
  static std::vector<uint8_t> pattern(size_t n, uint32_t seed) {
    std::vector<uint8_t> v(n);
    uint32_t x = seed * 2654435761u + 1;
    for (auto& b : v) {
      x = x * 1103515245u + 12345u;
      b = static_cast<uint8_t>(x >> 16);
    }
    return v;
  }
  nfsstat4 test_one(const Stateid& s) {
    auto r = c->call(c->builder().op(OP_TEST_STATEID, TestStateidArgs{{s}}));
    EXPECT_EQ(r.status, NFS4_OK);
    auto t = r.next<TestStateidResult>(OP_TEST_STATEID);
    EXPECT_EQ(t.ok.status_codes.size(), 1u);
    return t.ok.status_codes.empty() ? NFS4ERR_SERVERFAULT : t.ok.status_codes[0];
  }
  StateidResult downgrade(const Fh& fh, const Stateid& s, uint32_t access, uint32_t deny) {
    OpenDowngradeArgs a;
    a.stateid = s;
    a.share_access = access;
    a.share_deny = deny;
    auto r = c->call(c->builder().op(OP_PUTFH, PutFhArgs{fh}).op(OP_OPEN_DOWNGRADE, a));
    r.next_status(OP_PUTFH);
    return r.next<StateidResult>(OP_OPEN_DOWNGRADE);
  }
};

const Stateid kAnonymous{};
const Stateid kCurrent{1, {}};

// ---- OPEN ------------------------------------------------------------------------------------

TEST_F(IoTest, OpenUncheckedOfExistingFileOpensIt) {
  auto first = create("f");
  std::vector<uint8_t> data{1, 2, 3};
  ASSERT_EQ(c->write(first.opened(), 0, data), NFS4_OK);
  ASSERT_EQ(c->close(first.opened()), NFS4_OK);
  auto again = create("f");
  ASSERT_EQ(again.status, NFS4_OK);
  EXPECT_EQ(again.fh, first.fh);
  EXPECT_EQ(get_attrs(*c, again.fh, {FATTR4_SIZE}).u64(FATTR4_SIZE), 3u);  // not truncated
  EXPECT_NE(again.ok.rflags & OPEN4_RESULT_LOCKTYPE_POSIX, 0u);
  EXPECT_EQ(again.ok.rflags & OPEN4_RESULT_CONFIRM, 0u);  // never in 4.1 (§18.16.4)
  // UNCHECKED with size 0 truncates.
  auto oa = open_args(*c, "f", OPEN4_SHARE_ACCESS_BOTH, 0, true, UNCHECKED4, "other");
  oa.how.createattrs = AttrBuilder().u64(FATTR4_SIZE, 0).build();
  auto trunc = open(oa);
  ASSERT_EQ(trunc.status, NFS4_OK);
  EXPECT_EQ(get_attrs(*c, trunc.fh, {FATTR4_SIZE}).u64(FATTR4_SIZE), 0u);
}

TEST_F(IoTest, OpenCreateSetsAttributesAndChangeInfo) {
  auto oa = open_args(*c, "new", OPEN4_SHARE_ACCESS_BOTH, 0, true, GUARDED4);
  oa.how.createattrs = AttrBuilder().u32(FATTR4_MODE, 0600).build();
  auto o = open(oa);
  ASSERT_EQ(o.status, NFS4_OK);
  EXPECT_TRUE(o.ok.attrset.test(FATTR4_MODE));
  EXPECT_LT(o.ok.cinfo.before, o.ok.cinfo.after);
  Attrs a = get_attrs(*c, o.fh, {FATTR4_TYPE, FATTR4_MODE, FATTR4_SIZE});
  EXPECT_EQ(a.u32(FATTR4_TYPE), NF4REG);
  EXPECT_EQ(a.u32(FATTR4_MODE), 0600u);
  EXPECT_EQ(a.u64(FATTR4_SIZE), 0u);
  EXPECT_EQ(o.ok.delegation.type, OPEN_DELEGATE_NONE);
}

TEST_F(IoTest, OpenGuardedOfExistingFileIsExist) {
  create("f");
  auto o = open(open_args(*c, "f", OPEN4_SHARE_ACCESS_BOTH, 0, true, GUARDED4, "o2"));
  EXPECT_EQ(o.status, NFS4ERR_EXIST);
}

TEST_F(IoTest, OpenExclusive41RetryWithSameVerifierReturnsSameFile) {
  auto oa = open_args(*c, "excl", OPEN4_SHARE_ACCESS_BOTH, 0, true, EXCLUSIVE4_1);
  oa.how.verifier = verifier_of(0x1122334455667788ull);
  oa.how.createattrs = AttrBuilder().u32(FATTR4_MODE, 0640).build();
  auto first = open(oa);
  ASSERT_EQ(first.status, NFS4_OK);
  // The same request again (a retransmission whose reply was lost) succeeds on the same file.
  auto retry = open(oa);
  ASSERT_EQ(retry.status, NFS4_OK);
  EXPECT_EQ(retry.fh, first.fh);
  EXPECT_EQ(retry.ok.stateid.other, first.ok.stateid.other);
  EXPECT_EQ(get_attrs(*c, first.fh, {FATTR4_MODE}).u32(FATTR4_MODE), 0640u);
  // Another verifier means another client's create: the file exists.
  auto other = oa;
  other.how.verifier = verifier_of(99);
  EXPECT_EQ(open(other).status, NFS4ERR_EXIST);
  // Attributes not allowed with EXCLUSIVE4_1 (suppattr_exclcreat) are INVAL.
  auto bad = open_args(*c, "excl2", OPEN4_SHARE_ACCESS_BOTH, 0, true, EXCLUSIVE4_1);
  bad.how.createattrs = AttrBuilder().u64(FATTR4_FILEID, 5).build();
  EXPECT_EQ(open(bad).status, NFS4ERR_INVAL);
}

TEST_F(IoTest, OpenClaimFhOfExistingFile) {
  auto made = create("f");
  ASSERT_EQ(c->close(made.opened()), NFS4_OK);
  OpenArgs oa = open_args(*c, "", OPEN4_SHARE_ACCESS_READ);
  oa.claim.type = CLAIM_FH;
  auto r = c->call(c->builder().op(OP_PUTFH, PutFhArgs{made.fh}).op(OP_OPEN, oa).op(OP_GETFH));
  ASSERT_EQ(r.status, NFS4_OK);
  r.next_status(OP_PUTFH);
  auto o = r.next<OpenResult>(OP_OPEN);
  EXPECT_EQ(r.next<GetFhResult>(OP_GETFH).ok.object, made.fh);
  EXPECT_EQ(do_read(*c, made.fh, o.ok.stateid, 0, 10).status, NFS4_OK);
  EXPECT_EQ(do_close(*c, made.fh, o.ok.stateid).status, NFS4_OK);
}

TEST_F(IoTest, OpenOfNonRegularObjects) {
  CreateArgs dir;
  dir.objtype.type = NF4DIR;
  dir.objname = "dir";
  ASSERT_EQ(c->call(c->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_CREATE, dir)).status, NFS4_OK);
  CreateArgs ln;
  ln.objtype.type = NF4LNK;
  ln.objtype.linkdata = "dir";
  ln.objname = "link";
  ASSERT_EQ(c->call(c->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_CREATE, ln)).status, NFS4_OK);
  EXPECT_EQ(open(open_args(*c, "dir", OPEN4_SHARE_ACCESS_READ)).status, NFS4ERR_ISDIR);
  EXPECT_EQ(open(open_args(*c, "dir", OPEN4_SHARE_ACCESS_READ, 0, true)).status, NFS4ERR_ISDIR);
  EXPECT_EQ(open(open_args(*c, "link", OPEN4_SHARE_ACCESS_READ)).status, NFS4ERR_SYMLINK);
  EXPECT_EQ(open(open_args(*c, "missing", OPEN4_SHARE_ACCESS_READ)).status, NFS4ERR_NOENT);
  // OPEN with the current filehandle not a directory.
  auto f = create("f");
  EXPECT_EQ(do_open(*c, f.fh, open_args(*c, "x", OPEN4_SHARE_ACCESS_READ)).status, NFS4ERR_NOTDIR);
  // Bad share values.
  EXPECT_EQ(open(open_args(*c, "f", 0)).status, NFS4ERR_INVAL);
  EXPECT_EQ(open(open_args(*c, "f", OPEN4_SHARE_ACCESS_READ, 4)).status, NFS4ERR_INVAL);
}

// ---- READ and WRITE ---------------------------------------------------------------------------

TEST_F(IoTest, OneMebibyteWriteAndReadBack) {
  auto big = std::make_unique<NfsClient>("127.0.0.1", port());
  big->requested_fore = {0, 4u << 20, 4u << 20, 64u << 10, 64, 16, {}};
  big->establish();
  Fh bexp = big->lookup_path("/export");
  auto o = do_open(*big, bexp, open_args(*big, "big", OPEN4_SHARE_ACCESS_BOTH, 0, true));
  ASSERT_EQ(o.status, NFS4_OK);
  const std::vector<uint8_t> data = [] {
    std::vector<uint8_t> v(1u << 20);
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<uint8_t>((i * 31 + i / 4096) & 0xff);
    return v;
  }();
  auto w = do_write(*big, o.fh, o.ok.stateid, 0, data);
  ASSERT_EQ(w.status, NFS4_OK);
  EXPECT_EQ(w.ok.count, data.size());
  EXPECT_EQ(w.ok.committed, FILE_SYNC4);
  EXPECT_EQ(get_attrs(*big, o.fh, {FATTR4_SIZE}).u64(FATTR4_SIZE), data.size());
  auto r = do_read(*big, o.fh, o.ok.stateid, 0, 1u << 20);
  ASSERT_EQ(r.status, NFS4_OK);
  ASSERT_EQ(r.data.size(), data.size());
  EXPECT_TRUE(r.data == data);
  EXPECT_TRUE(r.eof);
}

TEST_F(IoTest, UnalignedWritesAndReads) {
  auto o = create("f");
  auto a = pattern(10000, 1);
  ASSERT_EQ(do_write(*c, o.fh, o.ok.stateid, 0, a).status, NFS4_OK);
  std::vector<uint8_t> patch{'X', 'Y', 'Z', 'W', 'V', 'U', 'T'};
  auto w = do_write(*c, o.fh, o.ok.stateid, 4093, patch);
  ASSERT_EQ(w.status, NFS4_OK);
  EXPECT_EQ(w.ok.count, patch.size());
  std::copy(patch.begin(), patch.end(), a.begin() + 4093);
  auto r = do_read(*c, o.fh, o.ok.stateid, 4090, 13);
  ASSERT_EQ(r.status, NFS4_OK);
  EXPECT_TRUE(std::equal(r.data.begin(), r.data.end(), a.begin() + 4090));
  EXPECT_EQ(r.data.size(), 13u);
  EXPECT_FALSE(r.eof);
  // A read that runs over the end is short and says eof.
  r = do_read(*c, o.fh, o.ok.stateid, 9995, 100);
  ASSERT_EQ(r.status, NFS4_OK);
  EXPECT_EQ(r.data.size(), 5u);
  EXPECT_TRUE(r.eof);
  EXPECT_TRUE(std::equal(r.data.begin(), r.data.end(), a.begin() + 9995));
  // Odd-sized pieces round-trip (XDR padding).
  for (size_t n : {1u, 2u, 3u, 5u}) {
    auto piece = pattern(n, static_cast<uint32_t>(n));
    ASSERT_EQ(do_write(*c, o.fh, o.ok.stateid, 20001, piece).status, NFS4_OK);
    auto back = do_read(*c, o.fh, o.ok.stateid, 20001, static_cast<uint32_t>(n));
    EXPECT_TRUE(back.data == piece) << n;
  }
}

TEST_F(IoTest, ReadPastEofAndSparseHoles) {
  auto o = create("f");
  auto r = do_read(*c, o.fh, o.ok.stateid, 0, 100);
  ASSERT_EQ(r.status, NFS4_OK);
  EXPECT_TRUE(r.eof);
  EXPECT_TRUE(r.data.empty());
  std::vector<uint8_t> tail(10, 0x5a);
  const uint64_t far = (1u << 20) + 5;
  ASSERT_EQ(do_write(*c, o.fh, o.ok.stateid, far, tail).status, NFS4_OK);
  EXPECT_EQ(get_attrs(*c, o.fh, {FATTR4_SIZE}).u64(FATTR4_SIZE), far + tail.size());
  // The hole reads as zeros.
  for (uint64_t off : {uint64_t{0}, uint64_t{4096 * 3 + 7}, far - 50}) {
    r = do_read(*c, o.fh, o.ok.stateid, off, 50);
    ASSERT_EQ(r.status, NFS4_OK);
    ASSERT_EQ(r.data.size(), 50u);
    EXPECT_TRUE(std::all_of(r.data.begin(), r.data.end(), [](uint8_t b) { return b == 0; })) << off;
  }
  r = do_read(*c, o.fh, o.ok.stateid, far - 2, 100);
  ASSERT_EQ(r.data.size(), 12u);
  EXPECT_EQ(r.data[0], 0);
  EXPECT_EQ(r.data[2], 0x5a);
  EXPECT_TRUE(r.eof);
  r = do_read(*c, o.fh, o.ok.stateid, far + 1000, 100);
  EXPECT_TRUE(r.eof);
  EXPECT_TRUE(r.data.empty());
}

TEST_F(IoTest, WriteUnderReadOnlyOpenIsOpenMode) {
  create("f");
  auto ro = open(open_args(*c, "f", OPEN4_SHARE_ACCESS_READ, 0, false, UNCHECKED4, "reader"));
  ASSERT_EQ(ro.status, NFS4_OK);
  std::vector<uint8_t> data{1};
  EXPECT_EQ(do_write(*c, ro.fh, ro.ok.stateid, 0, data).status, NFS4ERR_OPENMODE);
  EXPECT_EQ(get_attrs(*c, ro.fh, {FATTR4_SIZE}).u64(FATTR4_SIZE), 0u);
  EXPECT_EQ(do_read(*c, ro.fh, ro.ok.stateid, 0, 10).status, NFS4_OK);
}

TEST_F(IoTest, WriteVerifierIsStableAndCommitReturnsIt) {
  auto o = create("f");
  std::vector<uint8_t> data(100, 7);
  auto w1 = do_write(*c, o.fh, o.ok.stateid, 0, data, UNSTABLE4);
  auto w2 = do_write(*c, o.fh, o.ok.stateid, 100, data, FILE_SYNC4);
  auto w3 = do_write(*c, o.fh, o.ok.stateid, 200, data, DATA_SYNC4);
  ASSERT_EQ(w1.status, NFS4_OK);
  ASSERT_EQ(w2.status, NFS4_OK);
  ASSERT_EQ(w3.status, NFS4_OK);
  EXPECT_EQ(w1.ok.writeverf, w2.ok.writeverf);
  EXPECT_EQ(w2.ok.writeverf, w3.ok.writeverf);
  // committed is at least what was asked for.
  EXPECT_GE(w2.ok.committed, FILE_SYNC4);
  EXPECT_GE(w3.ok.committed, DATA_SYNC4);
  auto r = c->call(c->builder().op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_COMMIT, CommitArgs{0, 0}));
  ASSERT_EQ(r.status, NFS4_OK);
  r.next_status(OP_PUTFH);
  EXPECT_EQ(r.next<CommitResult>(OP_COMMIT).ok.writeverf, w1.ok.writeverf);
  auto part =
      c->call(c->builder().op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_COMMIT, CommitArgs{50, 100}));
  part.next_status(OP_PUTFH);
  EXPECT_EQ(part.next<CommitResult>(OP_COMMIT).ok.writeverf, w1.ok.writeverf);
  // A second client sees the same verifier (it is the server's, not the session's).
  auto other = client();
  auto o2 = do_open(*other, exp, open_args(*other, "g", OPEN4_SHARE_ACCESS_BOTH, 0, true));
  EXPECT_EQ(do_write(*other, o2.fh, o2.ok.stateid, 0, data).ok.writeverf, w1.ok.writeverf);
  // COMMIT of a directory is ISDIR; a range past 2^64 is INVAL.
  EXPECT_EQ(
      c->call(c->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_COMMIT, CommitArgs{0, 0})).status,
      NFS4ERR_ISDIR);
  EXPECT_EQ(
      c->call(c->builder().op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_COMMIT, CommitArgs{~0ull - 5, 100}))
          .status,
      NFS4ERR_INVAL);
}

TEST_F(IoTest, ReadAndWriteOfNonRegularObjects) {
  auto mk = [&](const std::string& name, nfs_ftype4 type, const std::string& link = "") {
    CreateArgs ca;
    ca.objtype.type = type;
    ca.objtype.linkdata = link;
    ca.objname = name;
    auto r = c->call(c->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_CREATE, ca).op(OP_GETFH));
    EXPECT_EQ(r.status, NFS4_OK);
    r.next_status(OP_PUTFH);
    r.next<CreateResult>(OP_CREATE);
    return r.next<GetFhResult>(OP_GETFH).ok.object;
  };
  Fh dir = mk("dir", NF4DIR);
  Fh link = mk("link", NF4LNK, "dir");
  Fh fifo = mk("fifo", NF4FIFO);
  std::vector<uint8_t> data{1};
  // §18.22.3, §18.32.4: ISDIR for a directory, SYMLINK for a symlink, WRONG_TYPE otherwise.
  const std::pair<const Fh*, nfsstat4> cases[] = {
      {&dir, NFS4ERR_ISDIR}, {&link, NFS4ERR_SYMLINK}, {&fifo, NFS4ERR_WRONG_TYPE}};
  for (const auto& [fh, want] : cases) {
    SCOPED_TRACE(want);
    EXPECT_EQ(do_read(*c, *fh, kAnonymous, 0, 10).status, want);
    EXPECT_EQ(do_write(*c, *fh, kAnonymous, 0, data).status, want);
  }
}

TEST_F(IoTest, RemovedWhileOpenStaysReadableUntilClose) {
  auto o = create("doomed");
  std::vector<uint8_t> data{'s', 't', 'i', 'l', 'l'};
  ASSERT_EQ(do_write(*c, o.fh, o.ok.stateid, 0, data).status, NFS4_OK);
  ASSERT_EQ(c->remove(exp, "doomed"), NFS4_OK);
  auto look =
      c->call(c->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_LOOKUP, ComponentArgs{"doomed"}));
  EXPECT_EQ(look.status, NFS4ERR_NOENT);
  // The open file keeps its data (§18.25.4 leaves this to the server; this one keeps it).
  auto r = do_read(*c, o.fh, o.ok.stateid, 0, 100);
  ASSERT_EQ(r.status, NFS4_OK);
  EXPECT_EQ(r.data, data);
  EXPECT_EQ(get_attrs(*c, o.fh, {FATTR4_NUMLINKS}).u32(FATTR4_NUMLINKS), 0u);
  ASSERT_EQ(do_close(*c, o.fh, o.ok.stateid).status, NFS4_OK);
  auto gone = c->call(
      c->builder().op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_GETATTR, GetattrArgs{{FATTR4_SIZE}}));
  EXPECT_EQ(gone.status, NFS4ERR_STALE);
}

// ---- stateids --------------------------------------------------------------------------------

TEST_F(IoTest, BadAndStaleStateidsAreRefused) {
  auto o = create("f");
  std::vector<uint8_t> data{1, 2, 3};
  // A stateid this server never issued (same boot, unknown "other").
  Stateid forged = o.ok.stateid;
  forged.other[11] ^= 0x5a;
  EXPECT_EQ(do_read(*c, o.fh, forged, 0, 10).status, NFS4ERR_BAD_STATEID);
  EXPECT_EQ(do_write(*c, o.fh, forged, 0, data).status, NFS4ERR_BAD_STATEID);
  // Random bytes: bad, or stale if they look like another server instance's (§8.2.2).
  Stateid random{1, {0x13, 0x57, 0x9b, 0xdf, 1, 2, 3, 4, 5, 6, 7, 8}};
  auto st = do_read(*c, o.fh, random, 0, 10).status;
  EXPECT_TRUE(st == NFS4ERR_BAD_STATEID || st == NFS4ERR_STALE_STATEID) << st;
  // Another file's stateid.
  auto g = create("g", OPEN4_SHARE_ACCESS_BOTH, "owner-g");
  EXPECT_EQ(do_read(*c, o.fh, g.ok.stateid, 0, 10).status, NFS4ERR_BAD_STATEID);
  // Another client's stateid.
  auto other = client();
  EXPECT_EQ(do_read(*other, o.fh, o.ok.stateid, 0, 10).status, NFS4ERR_BAD_STATEID);
  // Reserved special values that are not one of the defined ones (§8.2.3).
  Stateid invalid{0xffffffffu, {}};  // other 0, seqid NFS4_UINT32_MAX: defined invalid
  EXPECT_EQ(do_read(*c, o.fh, invalid, 0, 10).status, NFS4ERR_BAD_STATEID);
  Stateid zeros7{7, {}};
  EXPECT_EQ(do_read(*c, o.fh, zeros7, 0, 10).status, NFS4ERR_BAD_STATEID);
  Stateid ones5{5, {}};
  ones5.other.fill(0xff);
  EXPECT_EQ(do_write(*c, o.fh, ones5, 0, data).status, NFS4ERR_BAD_STATEID);
  // The READ bypass stateid reads, and in WRITE it counts as the anonymous one (§8.2.3).
  Stateid ones{0xffffffffu, {}};
  ones.other.fill(0xff);
  EXPECT_EQ(do_read(*c, o.fh, ones, 0, 10).status, NFS4_OK);
  EXPECT_EQ(do_write(*c, o.fh, ones, 0, data).status, NFS4_OK);
}

TEST_F(IoTest, OldSeqidIsOldStateid) {
  auto first = create("f");
  auto second = create("f");  // the same owner again: the same stateid, seqid moved on
  ASSERT_EQ(first.ok.stateid.other, second.ok.stateid.other);
  ASSERT_EQ(second.ok.stateid.seqid, first.ok.stateid.seqid + 1);
  std::vector<uint8_t> data{9};
  EXPECT_EQ(do_read(*c, first.fh, first.ok.stateid, 0, 10).status, NFS4ERR_OLD_STATEID);
  EXPECT_EQ(do_write(*c, first.fh, first.ok.stateid, 0, data).status, NFS4ERR_OLD_STATEID);
  EXPECT_EQ(do_read(*c, first.fh, second.ok.stateid, 0, 10).status, NFS4_OK);
  // A seqid from the future was never issued.
  Stateid future = second.ok.stateid;
  future.seqid += 5;
  EXPECT_EQ(do_read(*c, first.fh, future, 0, 10).status, NFS4ERR_BAD_STATEID);
  // seqid 0 means "the current one" (§8.2.2).
  Stateid zero = second.ok.stateid;
  zero.seqid = 0;
  EXPECT_EQ(do_write(*c, first.fh, zero, 0, data).status, NFS4_OK);
}

TEST_F(IoTest, AnonymousStateidWorksForReadAndWrite) {
  auto o = create("f");
  std::vector<uint8_t> data{'h', 'i'};
  ASSERT_EQ(do_write(*c, o.fh, o.ok.stateid, 0, data).status, NFS4_OK);
  ASSERT_EQ(c->close(o.opened()), NFS4_OK);
  auto r = do_read(*c, o.fh, kAnonymous, 0, 10);
  ASSERT_EQ(r.status, NFS4_OK);
  EXPECT_TRUE(r.data == data);
  std::vector<uint8_t> more{'!'};
  EXPECT_EQ(do_write(*c, o.fh, kAnonymous, 2, more).status, NFS4_OK);
  EXPECT_EQ(get_attrs(*c, o.fh, {FATTR4_SIZE}).u64(FATTR4_SIZE), 3u);
  // Without an open, the permission bits still decide: uid 1000 may read the 0644 file but
  // not write it.
  auto user = client(1000, 1000);
  EXPECT_EQ(do_read(*user, o.fh, kAnonymous, 0, 10).status, NFS4_OK);
  EXPECT_EQ(do_write(*user, o.fh, kAnonymous, 0, more).status, NFS4ERR_ACCESS);
}

TEST_F(IoTest, CurrentStateidAfterOpenInSameCompound) {
  WriteArgs wa;
  wa.stateid = kCurrent;
  wa.offset = 0;
  wa.stable = FILE_SYNC4;
  std::vector<uint8_t> data{'a', 'b', 'c', 'd'};
  wa.data.bytes = data;
  auto r = c->call(c->builder()
                       .op(OP_PUTFH, PutFhArgs{exp})
                       .op(OP_OPEN, open_args(*c, "cur", OPEN4_SHARE_ACCESS_BOTH, 0, true))
                       .op(OP_WRITE, wa)
                       .op(OP_READ, ReadArgs{kCurrent, 1, 2})
                       .op(OP_CLOSE, StateidSeqArgs{0, kCurrent}));
  ASSERT_EQ(r.status, NFS4_OK);
  r.next_status(OP_PUTFH);
  auto o = r.next<OpenResult>(OP_OPEN);
  EXPECT_EQ(r.next<WriteResult>(OP_WRITE).ok.count, 4u);
  auto rd = r.next<ReadResult>(OP_READ);
  ASSERT_EQ(rd.status, NFS4_OK);
  std::vector<uint8_t> got(rd.ok.pieces[0].bytes.begin(), rd.ok.pieces[0].bytes.end());
  EXPECT_EQ(got, (std::vector<uint8_t>{'b', 'c'}));
  EXPECT_EQ(r.next<StateidResult>(OP_CLOSE).status, NFS4_OK);
  // The CLOSE used the open's stateid: it is gone now.
  EXPECT_EQ(test_one(o.ok.stateid), NFS4ERR_BAD_STATEID);

  // With no current stateid in the compound, the special value is BAD_STATEID.
  Fh f = c->lookup_path("/export/cur");
  EXPECT_EQ(do_read(*c, f, kCurrent, 0, 4).status, NFS4ERR_BAD_STATEID);
  // PUTFH clears the current stateid (§16.2.3.1.2).
  auto cleared = c->call(c->builder()
                             .op(OP_PUTFH, PutFhArgs{exp})
                             .op(OP_OPEN, open_args(*c, "cur", OPEN4_SHARE_ACCESS_READ))
                             .op(OP_PUTFH, PutFhArgs{f})
                             .op(OP_READ, ReadArgs{kCurrent, 0, 4}));
  EXPECT_EQ(cleared.status, NFS4ERR_BAD_STATEID);
}

TEST_F(IoTest, CloseThenIoIsBadStateid) {
  auto o = create("f");
  auto cl = do_close(*c, o.fh, o.ok.stateid);
  ASSERT_EQ(cl.status, NFS4_OK);
  std::vector<uint8_t> data{1};
  EXPECT_EQ(do_read(*c, o.fh, o.ok.stateid, 0, 1).status, NFS4ERR_BAD_STATEID);
  EXPECT_EQ(do_write(*c, o.fh, o.ok.stateid, 0, data).status, NFS4ERR_BAD_STATEID);
  EXPECT_EQ(do_close(*c, o.fh, o.ok.stateid).status, NFS4ERR_BAD_STATEID);
  // The stateid CLOSE returned is no good for I/O either.
  EXPECT_NE(do_read(*c, o.fh, cl.ok.stateid, 0, 1).status, NFS4_OK);
}

TEST_F(IoTest, OpenDowngrade) {
  auto r1 = create("f", OPEN4_SHARE_ACCESS_READ);
  auto both = create("f", OPEN4_SHARE_ACCESS_BOTH);  // same owner: upgrades the same state
  ASSERT_EQ(both.ok.stateid.other, r1.ok.stateid.other);
  std::vector<uint8_t> data{1};
  ASSERT_EQ(do_write(*c, both.fh, both.ok.stateid, 0, data).status, NFS4_OK);
  auto dg = downgrade(both.fh, both.ok.stateid, OPEN4_SHARE_ACCESS_READ, 0);
  ASSERT_EQ(dg.status, NFS4_OK);
  EXPECT_EQ(dg.ok.stateid.other, both.ok.stateid.other);
  EXPECT_EQ(dg.ok.stateid.seqid, both.ok.stateid.seqid + 1);
  EXPECT_EQ(do_write(*c, both.fh, dg.ok.stateid, 0, data).status, NFS4ERR_OPENMODE);
  EXPECT_EQ(do_read(*c, both.fh, dg.ok.stateid, 0, 1).status, NFS4_OK);
  EXPECT_EQ(do_read(*c, both.fh, both.ok.stateid, 0, 1).status, NFS4ERR_OLD_STATEID);
  // Back up to BOTH is not a downgrade.
  EXPECT_EQ(downgrade(both.fh, dg.ok.stateid, OPEN4_SHARE_ACCESS_BOTH, 0).status, NFS4ERR_INVAL);

  // Opened only with BOTH: WRITE alone was never opened (§18.18.3).
  auto g = create("g", OPEN4_SHARE_ACCESS_BOTH, "owner-g");
  EXPECT_EQ(downgrade(g.fh, g.ok.stateid, OPEN4_SHARE_ACCESS_WRITE, 0).status, NFS4ERR_INVAL);
  EXPECT_EQ(downgrade(g.fh, g.ok.stateid, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_READ).status,
            NFS4ERR_INVAL);  // a deny never held
  EXPECT_EQ(downgrade(g.fh, g.ok.stateid, 0, 0).status, NFS4ERR_INVAL);
  // Opened READ and WRITE separately: WRITE was granted by an OPEN, so it may be kept alone.
  auto h1 = create("h", OPEN4_SHARE_ACCESS_READ, "owner-h");
  auto h2 = create("h", OPEN4_SHARE_ACCESS_WRITE, "owner-h");
  ASSERT_EQ(h1.ok.stateid.other, h2.ok.stateid.other);
  auto hw = downgrade(h2.fh, h2.ok.stateid, OPEN4_SHARE_ACCESS_WRITE, 0);
  ASSERT_EQ(hw.status, NFS4_OK);
  EXPECT_EQ(do_write(*c, h2.fh, hw.ok.stateid, 0, data).status, NFS4_OK);
  // A stale stateid is OLD_STATEID here as everywhere.
  EXPECT_EQ(downgrade(h2.fh, h2.ok.stateid, OPEN4_SHARE_ACCESS_WRITE, 0).status,
            NFS4ERR_OLD_STATEID);
}

TEST_F(IoTest, TestStateid) {
  auto o = create("f");
  auto again = create("f");
  auto g = create("g", OPEN4_SHARE_ACCESS_BOTH, "owner-g");
  ASSERT_EQ(do_close(*c, g.fh, g.ok.stateid).status, NFS4_OK);
  Stateid forged = o.ok.stateid;
  forged.other[11] ^= 1;
  auto r = c->call(c->builder().op(
      OP_TEST_STATEID,
      TestStateidArgs{{again.ok.stateid, o.ok.stateid, g.ok.stateid, forged, kAnonymous}}));
  ASSERT_EQ(r.status, NFS4_OK);
  auto t = r.next<TestStateidResult>(OP_TEST_STATEID);
  ASSERT_EQ(t.ok.status_codes.size(), 5u);
  EXPECT_EQ(t.ok.status_codes[0], NFS4_OK);
  EXPECT_EQ(t.ok.status_codes[1], NFS4ERR_OLD_STATEID);
  EXPECT_EQ(t.ok.status_codes[2], NFS4ERR_BAD_STATEID);
  EXPECT_EQ(t.ok.status_codes[3], NFS4ERR_BAD_STATEID);
  EXPECT_EQ(t.ok.status_codes[4], NFS4ERR_BAD_STATEID);  // special stateids are not tested
  // Another client's stateid is not this client's to test.
  auto other = client();
  auto ro = other->call(other->builder().op(OP_TEST_STATEID, TestStateidArgs{{again.ok.stateid}}));
  EXPECT_EQ(ro.next<TestStateidResult>(OP_TEST_STATEID).ok.status_codes.at(0), NFS4ERR_BAD_STATEID);
}

TEST_F(IoTest, FreeStateid) {
  auto o = create("f");
  // An open stateid is freed by CLOSE, not FREE_STATEID.
  auto r = c->call(c->builder().op(OP_FREE_STATEID, StateidArgs{o.ok.stateid}));
  EXPECT_EQ(r.status, NFS4ERR_LOCKS_HELD);
  EXPECT_EQ(test_one(o.ok.stateid), NFS4_OK);
  // A lock stateid holding a lock cannot be freed; once unlocked, it can.
  auto lk = do_lock(*c, o.fh, new_lock_args(*c, WRITE_LT, 0, 10, o.ok.stateid, "lo"));
  ASSERT_EQ(lk.status, NFS4_OK);
  EXPECT_EQ(c->call(c->builder().op(OP_FREE_STATEID, StateidArgs{lk.stateid})).status,
            NFS4ERR_LOCKS_HELD);
  auto un = do_locku(*c, o.fh, WRITE_LT, 0, 10, lk.stateid);
  ASSERT_EQ(un.status, NFS4_OK);
  EXPECT_EQ(c->call(c->builder().op(OP_FREE_STATEID, StateidArgs{un.ok.stateid})).status, NFS4_OK);
  EXPECT_EQ(test_one(un.ok.stateid), NFS4ERR_BAD_STATEID);
  EXPECT_EQ(c->call(c->builder().op(OP_FREE_STATEID, StateidArgs{un.ok.stateid})).status,
            NFS4ERR_BAD_STATEID);
  // Now the open has no locks and closes.
  EXPECT_EQ(do_close(*c, o.fh, o.ok.stateid).status, NFS4_OK);
}

TEST_F(IoTest, DelegreturnOfAnyStateidIsBadStateid) {
  auto o = create("f");
  for (const Stateid& s : {o.ok.stateid, kAnonymous, Stateid{1, {9, 9, 9}}}) {
    auto r = c->call(c->builder().op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_DELEGRETURN, StateidArgs{s}));
    auto st = r.status;
    // No delegation is ever granted, so nothing names one.
    EXPECT_TRUE(st == NFS4ERR_BAD_STATEID || (st == NFS4ERR_STALE_STATEID && !(s == o.ok.stateid)))
        << st;
  }
  EXPECT_EQ(test_one(o.ok.stateid), NFS4_OK);  // the open is untouched
}

}  // namespace
}  // namespace dfs::testing
