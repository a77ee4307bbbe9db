// Share reservations and byte-range locks between two clients, each with its own
// connection, client id and session (RFC 5661 §9, §18.10-§18.12, §18.16, §18.2).

#include "nfs4_test_util.h"

namespace dfs::testing {
namespace {

class ShareLockTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    a = client();
    b = client();
    ASSERT_NE(a->clientid, b->clientid);
    exp = a->lookup_path("/export");
    auto made =
        do_open(*a, exp, open_args(*a, "f", OPEN4_SHARE_ACCESS_BOTH, 0, true, UNCHECKED4, "setup"));
    ASSERT_EQ(made.status, NFS4_OK);
    std::vector<uint8_t> data(300, 'd');
    ASSERT_EQ(do_write(*a, made.fh, made.ok.stateid, 0, data).status, NFS4_OK);
    ASSERT_EQ(do_close(*a, made.fh, made.ok.stateid).status, NFS4_OK);
    f = made.fh;
  }
  OpenOutcome open(NfsClient& c, uint32_t access, uint32_t deny, const std::string& owner = "owner",
                   const std::string& name = "f") {
    return do_open(c, exp, open_args(c, name, access, deny, false, UNCHECKED4, owner));
  }
  OpenOutcome open_ok(NfsClient& c, uint32_t access, uint32_t deny,
                      const std::string& owner = "owner") {
    auto o = open(c, access, deny, owner);
    EXPECT_EQ(o.status, NFS4_OK);
    return o;
  }
  LockResult lock_new(NfsClient& c, const OpenOutcome& o, nfs_lock_type4 type, uint64_t offset,
                      uint64_t length, const std::string& lock_owner) {
    return do_lock(c, o.fh, new_lock_args(c, type, offset, length, o.ok.stateid, lock_owner));
  }
  static void expect_denied_by(const LockDenied& d, const NfsClient& holder,
                               const std::string& owner, uint64_t offset, uint64_t length,
                               nfs_lock_type4 type) {
    EXPECT_EQ(d.owner.clientid, holder.clientid);
    EXPECT_EQ(std::string(d.owner.owner.begin(), d.owner.owner.end()), owner);
    EXPECT_EQ(d.offset, offset);
    EXPECT_EQ(d.length, length);
    EXPECT_EQ(d.locktype, type);
  }

  std::unique_ptr<NfsClient> a, b;
  Fh exp, f;
};

const Stateid kAnonymous{};

// ---- share reservations (§9.7) ------------------------------------------------------------------

TEST_F(ShareLockTest, DenyWriteBlocksOtherWritersNotReaders) {
  auto ao = open_ok(*a, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_WRITE);
  EXPECT_EQ(open(*b, OPEN4_SHARE_ACCESS_WRITE, 0).status, NFS4ERR_SHARE_DENIED);
  EXPECT_EQ(open(*b, OPEN4_SHARE_ACCESS_BOTH, 0).status, NFS4ERR_SHARE_DENIED);
  // B denying READ conflicts with A's read access.
  EXPECT_EQ(open(*b, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_READ).status, NFS4ERR_SHARE_DENIED);
  auto br = open(*b, OPEN4_SHARE_ACCESS_READ, 0);
  ASSERT_EQ(br.status, NFS4_OK);
  auto rd = do_read(*b, f, br.ok.stateid, 0, 10);
  EXPECT_EQ(rd.status, NFS4_OK);
  EXPECT_EQ(rd.data.size(), 10u);
  // Another open-owner of the same client is just as much "another" (§9.7).
  EXPECT_EQ(open(*a, OPEN4_SHARE_ACCESS_WRITE, 0, "second-owner").status, NFS4ERR_SHARE_DENIED);
  // A's own owner is not denied by its own reservation.
  EXPECT_EQ(open(*a, OPEN4_SHARE_ACCESS_WRITE, 0).status, NFS4_OK);
  // A truncating create by B is refused before it truncates anything.
  auto trunc = open_args(*b, "f", OPEN4_SHARE_ACCESS_WRITE, 0, true, UNCHECKED4, "truncator");
  trunc.how.createattrs = AttrBuilder().u64(FATTR4_SIZE, 0).build();
  EXPECT_EQ(do_open(*b, exp, trunc).status, NFS4ERR_SHARE_DENIED);
  EXPECT_EQ(get_attrs(*b, f, {FATTR4_SIZE}).u64(FATTR4_SIZE), 300u);
}

TEST_F(ShareLockTest, DenyBothBlocksEverythingUntilClosed) {
  auto ao = open_ok(*a, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_BOTH);
  EXPECT_EQ(open(*b, OPEN4_SHARE_ACCESS_READ, 0).status, NFS4ERR_SHARE_DENIED);
  EXPECT_EQ(open(*b, OPEN4_SHARE_ACCESS_WRITE, 0).status, NFS4ERR_SHARE_DENIED);
  EXPECT_EQ(open(*b, OPEN4_SHARE_ACCESS_BOTH, 0).status, NFS4ERR_SHARE_DENIED);
  // I/O without an open honours the reservation too (§9.1.4): LOCKED.
  std::vector<uint8_t> data{1};
  EXPECT_EQ(do_read(*b, f, kAnonymous, 0, 1).status, NFS4ERR_LOCKED);
  EXPECT_EQ(do_write(*b, f, kAnonymous, 0, data).status, NFS4ERR_LOCKED);
  // Once A closes, B gets what it asked for.
  ASSERT_EQ(do_close(*a, ao.fh, ao.ok.stateid).status, NFS4_OK);
  auto bo = open(*b, OPEN4_SHARE_ACCESS_WRITE, OPEN4_SHARE_DENY_BOTH);
  ASSERT_EQ(bo.status, NFS4_OK);
  EXPECT_EQ(do_write(*b, f, bo.ok.stateid, 0, data).status, NFS4_OK);
  // And now A is the one denied.
  EXPECT_EQ(open(*a, OPEN4_SHARE_ACCESS_READ, 0).status, NFS4ERR_SHARE_DENIED);
}

TEST_F(ShareLockTest, AnonymousWriteUnderDenyWriteIsLocked) {
  auto ao = open_ok(*a, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_WRITE);
  std::vector<uint8_t> data{'x'};
  EXPECT_EQ(do_write(*b, f, kAnonymous, 0, data).status, NFS4ERR_LOCKED);
  // The READ bypass stateid counts as anonymous in WRITE (§8.2.3).
  Stateid ones{0xffffffffu, {}};
  ones.other.fill(0xff);
  EXPECT_EQ(do_write(*b, f, ones, 0, data).status, NFS4ERR_LOCKED);
  // Changing the size is a write too (§18.30.3).
  auto r = b->call(
      b->builder()
          .op(OP_PUTFH, PutFhArgs{f})
          .op(OP_SETATTR, SetattrArgs{kAnonymous, AttrBuilder().u64(FATTR4_SIZE, 0).build()}));
  EXPECT_EQ(r.status, NFS4ERR_LOCKED);
  // Reading is not denied.
  auto rd = do_read(*b, f, kAnonymous, 0, 5);
  EXPECT_EQ(rd.status, NFS4_OK);
  EXPECT_EQ(rd.data, std::vector<uint8_t>(5, 'd'));
  EXPECT_EQ(get_attrs(*b, f, {FATTR4_SIZE}).u64(FATTR4_SIZE), 300u);
  // After A closes, the same write goes through.
  ASSERT_EQ(do_close(*a, ao.fh, ao.ok.stateid).status, NFS4_OK);
  EXPECT_EQ(do_write(*b, f, kAnonymous, 0, data).status, NFS4_OK);
}

// ---- byte-range locks (§9.1) --------------------------------------------------------------------

TEST_F(ShareLockTest, ConflictingWriteLockIsDeniedWithHolder) {
  auto ao = open_ok(*a, OPEN4_SHARE_ACCESS_BOTH, 0);
  auto bo = open_ok(*b, OPEN4_SHARE_ACCESS_BOTH, 0);
  auto la = lock_new(*a, ao, WRITE_LT, 0, 100, "lock-a");
  ASSERT_EQ(la.status, NFS4_OK);
  EXPECT_EQ(la.stateid.seqid, 1u);
  EXPECT_FALSE(la.stateid.other == ao.ok.stateid.other);  // a lock stateid of its own

  auto lb = lock_new(*b, bo, WRITE_LT, 50, 10, "lock-b");
  EXPECT_EQ(lb.status, NFS4ERR_DENIED);
  expect_denied_by(lb.denied, *a, "lock-a", 0, 100, WRITE_LT);
  auto lbr = lock_new(*b, bo, READ_LT, 99, 1, "lock-b");
  EXPECT_EQ(lbr.status, NFS4ERR_DENIED);
  // Outside A's range B gets its lock.
  auto lb2 = lock_new(*b, bo, WRITE_LT, 100, 100, "lock-b");
  ASSERT_EQ(lb2.status, NFS4_OK);
  // Now A is the one denied on B's range.
  auto la2 = do_lock(*a, ao.fh, existing_lock_args(WRITE_LT, 150, 1, la.stateid));
  EXPECT_EQ(la2.status, NFS4ERR_DENIED);
  expect_denied_by(la2.denied, *b, "lock-b", 100, 100, WRITE_LT);

  // LOCKT reports the same conflicts without taking anything.
  auto t = do_lockt(*b, f, WRITE_LT, 50, 10, "lock-b");
  EXPECT_EQ(t.status, NFS4ERR_DENIED);
  expect_denied_by(t.denied, *a, "lock-a", 0, 100, WRITE_LT);
  EXPECT_EQ(do_lockt(*b, f, READ_LT, 0, 1, "someone").status, NFS4ERR_DENIED);
  EXPECT_EQ(do_lockt(*b, f, WRITE_LT, 200, 50, "lock-b").status, NFS4_OK);
  EXPECT_EQ(do_lockt(*a, f, WRITE_LT, 0, 100, "lock-a").status, NFS4_OK);  // its own
  // Two lock owners of one client conflict like any others.
  auto other_owner = lock_new(*a, ao, WRITE_LT, 10, 1, "lock-a2");
  EXPECT_EQ(other_owner.status, NFS4ERR_DENIED);
  expect_denied_by(other_owner.denied, *a, "lock-a", 0, 100, WRITE_LT);
}

TEST_F(ShareLockTest, ReadLocksAreShared) {
  auto ao = open_ok(*a, OPEN4_SHARE_ACCESS_READ, 0);
  auto bo = open_ok(*b, OPEN4_SHARE_ACCESS_BOTH, 0);
  ASSERT_EQ(lock_new(*a, ao, READ_LT, 0, 50, "ra").status, NFS4_OK);
  ASSERT_EQ(lock_new(*b, bo, READ_LT, 0, 50, "rb").status, NFS4_OK);
  EXPECT_EQ(do_lockt(*b, f, READ_LT, 0, 50, "third").status, NFS4_OK);
  auto w = lock_new(*b, bo, WRITE_LT, 40, 20, "wb");
  EXPECT_EQ(w.status, NFS4ERR_DENIED);
  EXPECT_EQ(w.denied.locktype, READ_LT);
  EXPECT_LT(w.denied.offset, 60u);
  // A write lock needs an open with write access (§18.10.4).
  EXPECT_EQ(lock_new(*a, ao, WRITE_LT, 100, 10, "ra2").status, NFS4ERR_OPENMODE);
}

TEST_F(ShareLockTest, UpgradeReadToWrite) {
  auto ao = open_ok(*a, OPEN4_SHARE_ACCESS_BOTH, 0);
  auto bo = open_ok(*b, OPEN4_SHARE_ACCESS_BOTH, 0);
  auto rl = lock_new(*a, ao, READ_LT, 0, 50, "a");
  ASSERT_EQ(rl.status, NFS4_OK);
  // Alone: the upgrade is granted, and B now sees a write lock.
  auto up = do_lock(*a, ao.fh, existing_lock_args(WRITE_LT, 0, 50, rl.stateid));
  ASSERT_EQ(up.status, NFS4_OK);
  EXPECT_EQ(up.stateid.other, rl.stateid.other);
  auto t = do_lockt(*b, f, READ_LT, 10, 1, "b");
  EXPECT_EQ(t.status, NFS4ERR_DENIED);
  expect_denied_by(t.denied, *a, "a", 0, 50, WRITE_LT);
  // Downgrade to a read lock, let B share it: a second upgrade is denied by B's lock.
  auto down = do_lock(*a, ao.fh, existing_lock_args(READ_LT, 0, 50, up.stateid));
  ASSERT_EQ(down.status, NFS4_OK);
  ASSERT_EQ(lock_new(*b, bo, READ_LT, 20, 10, "b").status, NFS4_OK);
  auto denied = do_lock(*a, ao.fh, existing_lock_args(WRITE_LT, 0, 50, down.stateid));
  EXPECT_EQ(denied.status, NFS4ERR_DENIED);
  expect_denied_by(denied.denied, *b, "b", 20, 10, READ_LT);
  // A still holds its read lock after the refused upgrade.
  auto still = do_lockt(*b, f, WRITE_LT, 0, 1, "b2");
  EXPECT_EQ(still.status, NFS4ERR_DENIED);
  expect_denied_by(still.denied, *a, "a", 0, 50, READ_LT);
}

TEST_F(ShareLockTest, UnlockSplitsARange) {
  auto ao = open_ok(*a, OPEN4_SHARE_ACCESS_BOTH, 0);
  auto bo = open_ok(*b, OPEN4_SHARE_ACCESS_BOTH, 0);
  auto l = lock_new(*a, ao, WRITE_LT, 0, 100, "a");
  ASSERT_EQ(l.status, NFS4_OK);
  auto u = do_locku(*a, ao.fh, WRITE_LT, 40, 20, l.stateid);
  ASSERT_EQ(u.status, NFS4_OK);
  // [0,40) and [60,100) remain.
  ASSERT_EQ(lock_new(*b, bo, WRITE_LT, 45, 10, "b").status, NFS4_OK);
  auto left = lock_new(*b, bo, WRITE_LT, 30, 5, "b2");
  EXPECT_EQ(left.status, NFS4ERR_DENIED);
  expect_denied_by(left.denied, *a, "a", 0, 40, WRITE_LT);
  auto right = lock_new(*b, bo, WRITE_LT, 65, 5, "b3");
  EXPECT_EQ(right.status, NFS4ERR_DENIED);
  expect_denied_by(right.denied, *a, "a", 60, 40, WRITE_LT);
  // Unlocking a range that holds nothing is fine too.
  EXPECT_EQ(do_locku(*a, ao.fh, WRITE_LT, 1000, 10, u.ok.stateid).status, NFS4_OK);
}

TEST_F(ShareLockTest, CloseWithLocksHeldIsLocksHeld) {
  auto ao = open_ok(*a, OPEN4_SHARE_ACCESS_BOTH, 0);
  auto l = lock_new(*a, ao, WRITE_LT, 0, 10, "a");
  ASSERT_EQ(l.status, NFS4_OK);
  EXPECT_EQ(do_close(*a, ao.fh, ao.ok.stateid).status, NFS4ERR_LOCKS_HELD);
  // The open is still there and usable.
  EXPECT_EQ(do_read(*a, ao.fh, ao.ok.stateid, 0, 1).status, NFS4_OK);
  auto u = do_locku(*a, ao.fh, WRITE_LT, 0, 10, l.stateid);
  ASSERT_EQ(u.status, NFS4_OK);
  EXPECT_EQ(do_close(*a, ao.fh, ao.ok.stateid).status, NFS4_OK);
  // Closing released the lock state as well.
  auto bo = open_ok(*b, OPEN4_SHARE_ACCESS_BOTH, 0);
  EXPECT_EQ(lock_new(*b, bo, WRITE_LT, 0, 10, "b").status, NFS4_OK);
}

TEST_F(ShareLockTest, InvalidRangesAreInval) {
  auto ao = open_ok(*a, OPEN4_SHARE_ACCESS_BOTH, 0);
  const uint64_t max = kUint64Max;
  // §18.10.3: zero length, and offset + length beyond NFS4_UINT64_MAX.
  EXPECT_EQ(lock_new(*a, ao, WRITE_LT, 0, 0, "a").status, NFS4ERR_INVAL);
  EXPECT_EQ(lock_new(*a, ao, WRITE_LT, 10, max - 9, "a").status, NFS4ERR_INVAL);
  EXPECT_EQ(lock_new(*a, ao, WRITE_LT, max - 10, 100, "a").status, NFS4ERR_INVAL);
  EXPECT_EQ(do_lockt(*a, f, WRITE_LT, 5, 0, "a").status, NFS4ERR_INVAL);
  EXPECT_EQ(do_lockt(*a, f, WRITE_LT, max, 2, "a").status, NFS4ERR_INVAL);
  // Exactly up to NFS4_UINT64_MAX, and "to the end" with NFS4_UINT64_MAX, are fine.
  auto ok = lock_new(*a, ao, WRITE_LT, 10, max - 10, "a");
  ASSERT_EQ(ok.status, NFS4_OK);
  EXPECT_EQ(do_locku(*a, ao.fh, WRITE_LT, 10, 0, ok.stateid).status, NFS4ERR_INVAL);
  auto toend = do_lock(*a, ao.fh, existing_lock_args(WRITE_LT, 1000, max, ok.stateid));
  ASSERT_EQ(toend.status, NFS4_OK);
  auto bo = open_ok(*b, OPEN4_SHARE_ACCESS_BOTH, 0);
  auto far = lock_new(*b, bo, READ_LT, max - 1, 1, "b");
  EXPECT_EQ(far.status, NFS4ERR_DENIED);
  // The same owner's "to the end" lock replaced the tail of its first one.
  EXPECT_EQ(far.denied.offset, 1000u);
  EXPECT_EQ(far.denied.length, max);
  // Bytes before the locked range are free.
  EXPECT_EQ(lock_new(*b, bo, WRITE_LT, 0, 10, "b").status, NFS4_OK);
}

TEST_F(ShareLockTest, LockStateidSeqidIncrements) {
  auto ao = open_ok(*a, OPEN4_SHARE_ACCESS_BOTH, 0);
  auto l1 = lock_new(*a, ao, WRITE_LT, 0, 10, "a");
  ASSERT_EQ(l1.status, NFS4_OK);
  EXPECT_EQ(l1.stateid.seqid, 1u);
  auto l2 = do_lock(*a, ao.fh, existing_lock_args(WRITE_LT, 20, 10, l1.stateid));
  ASSERT_EQ(l2.status, NFS4_OK);
  EXPECT_EQ(l2.stateid.other, l1.stateid.other);
  EXPECT_EQ(l2.stateid.seqid, 2u);
  auto u = do_locku(*a, ao.fh, WRITE_LT, 0, 10, l2.stateid);
  ASSERT_EQ(u.status, NFS4_OK);
  EXPECT_EQ(u.ok.stateid.other, l1.stateid.other);
  EXPECT_EQ(u.ok.stateid.seqid, 3u);
  // The superseded stateids are old now.
  EXPECT_EQ(do_locku(*a, ao.fh, WRITE_LT, 20, 10, l1.stateid).status, NFS4ERR_OLD_STATEID);
  EXPECT_EQ(do_lock(*a, ao.fh, existing_lock_args(WRITE_LT, 40, 10, l2.stateid)).status,
            NFS4ERR_OLD_STATEID);
  // A lock stateid is good for I/O as well (§8.2.1).
  EXPECT_EQ(do_read(*a, ao.fh, u.ok.stateid, 0, 5).status, NFS4_OK);
  // Another client cannot use it.
  EXPECT_EQ(do_locku(*b, ao.fh, WRITE_LT, 20, 10, u.ok.stateid).status, NFS4ERR_BAD_STATEID);
  // Only an open stateid may start a new lock owner; a lock stateid may not.
  auto wrong = new_lock_args(*a, WRITE_LT, 100, 1, u.ok.stateid, "a-new");
  EXPECT_EQ(do_lock(*a, ao.fh, wrong).status, NFS4ERR_BAD_STATEID);
}

TEST_F(ShareLockTest, LocksOnDirectoriesAreRefused) {
  auto ao = open_ok(*a, OPEN4_SHARE_ACCESS_BOTH, 0);
  auto la = new_lock_args(*a, WRITE_LT, 0, 10, ao.ok.stateid, "a");
  auto r = a->call(a->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_LOCK, la));
  EXPECT_EQ(r.status, NFS4ERR_ISDIR);
  // §18.10.3-§18.12.3: SYMLINK for a symlink, WRONG_TYPE for other non-regular objects.
  CreateArgs ln;
  ln.objtype.type = NF4LNK;
  ln.objtype.linkdata = "f";
  ln.objname = "link";
  CreateArgs fifo;
  fifo.objtype.type = NF4FIFO;
  fifo.objname = "fifo";
  for (const auto& [ca, want] :
       {std::pair{ln, NFS4ERR_SYMLINK}, std::pair{fifo, NFS4ERR_WRONG_TYPE}}) {
    SCOPED_TRACE(want);
    auto mk = a->call(a->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_CREATE, ca).op(OP_GETFH));
    ASSERT_EQ(mk.status, NFS4_OK);
    mk.next_status(OP_PUTFH);
    mk.next<CreateResult>(OP_CREATE);
    Fh fh = mk.next<GetFhResult>(OP_GETFH).ok.object;
    EXPECT_EQ(a->call(a->builder().op(OP_PUTFH, PutFhArgs{fh}).op(OP_LOCK, la)).status, want);
    EXPECT_EQ(do_lockt(*a, fh, WRITE_LT, 0, 1, "x").status, want);
    EXPECT_EQ(do_locku(*a, fh, WRITE_LT, 0, 1, ao.ok.stateid).status, want);
  }
}

}  // namespace
}  // namespace dfs::testing
