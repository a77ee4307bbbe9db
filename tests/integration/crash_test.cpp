// dfs on its durable stores, killed with SIGKILL and started again on the same data
// directory: every change acknowledged as stable is there, file handles stay valid, handles
// of deleted files are stale, and no file holds bytes it was never sent. Short here; the
// rounds of the kill loop grow with DFS_CRASH_ROUNDS (the opt-in `crash_long` target).

#include <gtest/gtest.h>

#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "dfs_process.h"
#include "nfs4_test_util.h"

namespace dfs::testing {
namespace {

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = std::filesystem::temp_directory_path() / "dfs-crash.XXXXXX";
    dir_ = ::mkdtemp(tmpl.data());
    port_ = DfsProcess::free_port();
    dfs_ = std::make_unique<DfsProcess>(dir_, config());
    dfs_->start(port_);
  }
  void TearDown() override {
    dfs_.reset();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }
  std::string config() const {
    return "listen: 127.0.0.1\nport: " + std::to_string(port_) + "\ndata_dir: " + dir_ +
           "/data\nrpcbind_register: false\npassword_cost: minimal\nreactor_threads: 2\n"
           "api: {enabled: false}\nmetrics: {enabled: false}\n"
           // Each test's clients are new after a restart (they check data, not reclaim:
           // grace_test.cpp does), so no grace period holds their OPENs back.
           "nfs: {grace_period: 0}\n"
           "shares:\n  - path: /export\n    metadata: rocksdb\n    blocks: fs\n"
           "    root_squash: false\n";
  }
  std::unique_ptr<NfsClient> client() {
    auto c = std::make_unique<NfsClient>("127.0.0.1", port_);
    c->establish(unique_name("crash-client"));
    return c;
  }
  void crash_and_restart() {
    dfs_->kill_hard();
    dfs_->start(port_);
  }
  // The whole file, read through a fresh OPEN.
  std::vector<uint8_t> content(NfsClient& c, const Fh& dir, const std::string& name) {
    auto o = c.open_or_throw(dir, name, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, false);
    std::vector<uint8_t> all;
    for (;;) {
      auto r = do_read(c, o.fh, o.stateid, all.size(), 1 << 20);
      EXPECT_EQ(r.status, NFS4_OK);
      all.insert(all.end(), r.data.begin(), r.data.end());
      if (r.status != NFS4_OK || r.eof || r.data.empty()) break;
    }
    c.close(o);
    return all;
  }

  std::string dir_;
  uint16_t port_ = 0;
  std::unique_ptr<DfsProcess> dfs_;
};

std::vector<uint8_t> pattern(size_t n, uint64_t seed) {
  std::vector<uint8_t> v(n);
  std::mt19937_64 rng(seed);
  for (auto& b : v)
    b = static_cast<uint8_t>(rng() | 1);  // never zero: a zero is a byte never sent
  return v;
}

TEST_F(CrashTest, AcknowledgedChangesAndHandlesSurviveSigkill) {
  auto c = client();
  Fh root = c->lookup_path("/export");
  const auto a = pattern(100000, 1), b = pattern(5000, 2), d = pattern(70000, 3);
  auto f1 = c->open_or_throw(root, "file_sync", OPEN4_SHARE_ACCESS_BOTH);
  auto w1 = do_write(*c, f1.fh, f1.stateid, 0, a, FILE_SYNC4);
  ASSERT_EQ(w1.status, NFS4_OK);
  EXPECT_EQ(w1.ok.committed, FILE_SYNC4);
  auto f2 = c->open_or_throw(root, "data_sync", OPEN4_SHARE_ACCESS_BOTH);
  auto w2 = do_write(*c, f2.fh, f2.stateid, 0, b, DATA_SYNC4);
  ASSERT_EQ(w2.status, NFS4_OK);
  EXPECT_GE(w2.ok.committed, DATA_SYNC4);
  auto f3 = c->open_or_throw(root, "committed", OPEN4_SHARE_ACCESS_BOTH);
  auto w3 = do_write(*c, f3.fh, f3.stateid, 0, d, UNSTABLE4);
  ASSERT_EQ(w3.status, NFS4_OK);
  EXPECT_EQ(w3.ok.committed, UNSTABLE4);
  auto cm = c->call(c->builder().op(OP_PUTFH, PutFhArgs{f3.fh}).op(OP_COMMIT, CommitArgs{0, 0}));
  ASSERT_EQ(cm.status, NFS4_OK);
  Fh sub;
  ASSERT_EQ(c->mkdir(root, "sub", &sub), NFS4_OK);
  auto gone = c->open_or_throw(root, "gone", OPEN4_SHARE_ACCESS_BOTH);
  c->close(gone);
  ASSERT_EQ(c->remove(root, "gone"), NFS4_OK);
  auto mv = c->call(c->builder()
                        .op(OP_PUTFH, PutFhArgs{root})
                        .op(OP_SAVEFH)
                        .op(OP_PUTFH, PutFhArgs{sub})
                        .op(OP_RENAME, RenameArgs{"data_sync", "moved"}));
  ASSERT_EQ(mv.status, NFS4_OK);
  const Verifier before = w1.ok.writeverf;

  crash_and_restart();

  auto c2 = client();
  Fh root2 = c2->lookup_path("/export");
  EXPECT_EQ(root2, root);
  EXPECT_EQ(content(*c2, root2, "file_sync"), a);
  EXPECT_EQ(content(*c2, sub, "moved"), b);  // the directory's old handle, and the rename
  EXPECT_EQ(content(*c2, root2, "committed"), d);
  // Handles from before the crash: the file's still works, the deleted one's is stale.
  EXPECT_EQ(c2->getattr_u64(f1.fh, FATTR4_SIZE), a.size());
  auto stale =
      c2->call(c2->builder().op(OP_PUTFH, PutFhArgs{gone.fh}).op(OP_GETATTR, GetattrArgs{}));
  EXPECT_EQ(stale.status, NFS4ERR_STALE);
  EXPECT_EQ(c2->mkdir(root2, "sub"), NFS4ERR_EXIST);
  // A new write verifier: clients resend what they had not committed (§18.32.3).
  auto again = c2->open_or_throw(root2, "file_sync", OPEN4_SHARE_ACCESS_BOTH);
  auto w4 = do_write(*c2, again.fh, again.stateid, 0, pattern(10, 9), UNSTABLE4);
  ASSERT_EQ(w4.status, NFS4_OK);
  EXPECT_NE(w4.ok.writeverf, before);
}

// A writer appends records (FILE_SYNC, or UNSTABLE then COMMIT) and creates names; dfs is
// killed after a random number of acknowledgements, in each round, and every round checks
// all the rounds before it.
TEST_F(CrashTest, KilledAtRandomPointsLosesNothingAcknowledged) {
  const char* env = std::getenv("DFS_CRASH_ROUNDS");
  const int rounds = env ? std::max(1, std::atoi(env)) : 3;
  constexpr size_t kRecord = 6000;  // not a multiple of a page
  std::mt19937 rng(std::random_device{}());
  struct Acked {
    size_t records = 0;
    size_t names = 0;
  };
  std::vector<Acked> acked(rounds);
  for (int round = 0; round < rounds; ++round) {
    std::mutex mu;
    std::atomic<bool> stop{false};
    const size_t kill_after = 5 + rng() % 40;
    std::thread writer([&, round] {
      try {
        auto c = client();
        Fh root = c->lookup_path("/export");
        const std::string log = "log" + std::to_string(round);
        auto o = c->open_or_throw(root, log, OPEN4_SHARE_ACCESS_BOTH);
        const auto data = pattern(kRecord * 200, round);
        for (size_t i = 0; i < 200 && !stop; ++i) {
          std::span<const uint8_t> rec(data.data() + i * kRecord, kRecord);
          const bool unstable = i % 3 == 2;
          auto w =
              do_write(*c, o.fh, o.stateid, i * kRecord, rec, unstable ? UNSTABLE4 : FILE_SYNC4);
          if (w.status != NFS4_OK) break;
          if (unstable) {
            auto cm =
                c->call(c->builder().op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_COMMIT, CommitArgs{0, 0}));
            if (cm.status != NFS4_OK) break;
          }
          {
            std::lock_guard lock(mu);
            acked[round].records = i + 1;
          }
          if (i % 4 == 0) {
            NfsClient::Opened n =
                c->open_or_throw(root, log + "_" + std::to_string(i / 4), OPEN4_SHARE_ACCESS_BOTH);
            c->close(n);
            std::lock_guard lock(mu);
            acked[round].names = i / 4 + 1;
          }
        }
      } catch (const std::exception&) {
        // The server went away mid-call: what was acknowledged before is what counts.
      }
    });
    // Kill once the writer has had `kill_after` records acknowledged (bounded wait).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      {
        std::lock_guard lock(mu);
        if (acked[round].records >= kill_after) break;
      }
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << dfs_->log();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    crash_and_restart();
    stop = true;
    writer.join();

    auto c = client();
    Fh root = c->lookup_path("/export");
    for (int r = 0; r <= round; ++r) {
      const std::string log = "log" + std::to_string(r);
      const auto data = pattern(kRecord * 200, r);
      auto got = content(*c, root, log);
      ASSERT_GE(got.size(), acked[r].records * kRecord) << "round " << r;
      // Beyond what was acknowledged there may be records sent and not acknowledged, but
      // never bytes that were not sent (zeros, or anything else).
      ASSERT_LE(got.size(), data.size());
      EXPECT_TRUE(std::equal(got.begin(), got.end(), data.begin())) << "round " << r;
      for (size_t n = 0; n < acked[r].names; ++n) {
        NfsClient::Opened o;
        EXPECT_EQ(c->open(root, log + "_" + std::to_string(n), OPEN4_SHARE_ACCESS_READ,
                          OPEN4_SHARE_DENY_NONE, false, o),
                  NFS4_OK)
            << "round " << r << " name " << n;
        c->close(o);
      }
    }
  }
}

// A full disk: the data directory on a 32 MiB tmpfs (mounting needs root with
// CAP_SYS_ADMIN; the suite runs so in CI, and says it skipped otherwise).
class FullDiskTest : public CrashTest {
 protected:
  void SetUp() override {
    CrashTest::SetUp();
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
    dfs_->kill_hard();
    data_ = dir_ + "/data";
    std::filesystem::remove_all(data_);
    std::filesystem::create_directories(data_);
    if (::mount("dfs-full", data_.c_str(), "tmpfs", 0, "size=32m") != 0) {
      // Root without CAP_SYS_ADMIN (an unprivileged container) cannot mount either.
      if (errno == EPERM || errno == EACCES) GTEST_SKIP() << "cannot mount a tmpfs here";
      FAIL() << "mount: " << std::strerror(errno);
    }
    mounted_ = true;
    dfs_->start(port_);
  }
  void TearDown() override {
    if (dfs_) dfs_->kill_hard();
    if (mounted_) ::umount2(data_.c_str(), MNT_DETACH);
    CrashTest::TearDown();
  }
  // Files of 512 KiB written FILE_SYNC until the disk refuses; returns the contents kept
  // (file "f<i>" holds kept[i]) and sets `refused` to the status that stopped it.
  std::vector<std::vector<uint8_t>> fill(NfsClient& c, const Fh& root, nfsstat4& refused) {
    std::vector<std::vector<uint8_t>> kept;
    refused = NFS4_OK;
    for (int i = 0; i < 160 && refused == NFS4_OK; ++i) {
      NfsClient::Opened o;
      const nfsstat4 opened = c.open(root, "f" + std::to_string(i), OPEN4_SHARE_ACCESS_BOTH,
                                     OPEN4_SHARE_DENY_NONE, true, o);
      if (opened != NFS4_OK) {  // the metadata store may fill up first
        refused = opened;
        break;
      }
      auto bytes = pattern(512 << 10, 100 + i);  // one WRITE within the session's request size
      auto w = do_write(c, o.fh, o.stateid, 0, bytes, FILE_SYNC4);
      if (w.status == NFS4_OK) {
        kept.push_back(std::move(bytes));
      } else {
        refused = w.status;
      }
      c.close(o);
    }
    return kept;
  }

  std::string data_;
  bool mounted_ = false;
};

// Writes past the space answer NFS4ERR_NOSPC, the server stays up, and every file
// acknowledged before reads back whole.
TEST_F(FullDiskTest, RefusesNewDataAndLosesNothingWritten) {
  auto c = client();
  Fh root = c->lookup_path("/export");
  nfsstat4 refused = NFS4_OK;
  auto kept = fill(*c, root, refused);
  EXPECT_EQ(refused, NFS4ERR_NOSPC);
  EXPECT_GT(kept.size(), 16u);
  // Still serving, with everything acknowledged intact.
  auto c2 = client();
  for (size_t i = 0; i < kept.size(); ++i)
    EXPECT_EQ(content(*c2, root, "f" + std::to_string(i)), kept[i]) << i;
}

// The floor is a setting: with `free_space_floor_bytes` at half the 32 MiB disk, data stops
// with that much still free (the default, 5% of the disk, would leave about 1.6 MiB), and
// what was acknowledged reads back.
TEST_F(FullDiskTest, AConfiguredFloorKeepsThatMuchOfTheDiskFree) {
  dfs_->kill_hard();
  dfs_ = std::make_unique<DfsProcess>(dir_, config() + "free_space_floor_bytes: 16777216\n");
  dfs_->start(port_);
  auto c = client();
  Fh root = c->lookup_path("/export");
  nfsstat4 refused = NFS4_OK;
  auto kept = fill(*c, root, refused);
  EXPECT_EQ(refused, NFS4ERR_NOSPC);
  EXPECT_GT(kept.size(), 4u);
  struct statvfs vfs {};
  ASSERT_EQ(::statvfs(data_.c_str(), &vfs), 0);
  const uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  // The floor, less what may be taken between two looks at the disk (a quarter of it).
  EXPECT_GE(free_bytes, (uint64_t{16} << 20) * 3 / 4) << kept.size() << " files kept";
  for (size_t i = 0; i < kept.size(); ++i)
    EXPECT_EQ(content(*c, root, "f" + std::to_string(i)), kept[i]) << i;
}

// Another program fills the disk to the last byte, under dfs's floors. Every create refused
// then still takes an inode id, and the metadata store writes a reservation of ids to its
// log every few thousand ids; that write fails too, and used to throw out of the reactor, so
// dfs died (a bug: the creates past the reservation killed the server). Each create must
// instead be refused with a status, the server must go on serving what it holds, and once
// the program's file is gone dfs must take changes again (the metadata store, stopped by
// the failed log write, opens its database again).
TEST_F(FullDiskTest, ADiskFilledByAnotherProgramRefusesCreatesAndRecovers) {
  auto c = client();
  Fh root = c->lookup_path("/export");
  const auto kept = pattern(64 << 10, 7);
  {
    auto o = c->open_or_throw(root, "kept", OPEN4_SHARE_ACCESS_BOTH);
    ASSERT_EQ(do_write(*c, o.fh, o.stateid, 0, kept, FILE_SYNC4).status, NFS4_OK);
    c->close(o);
  }
  const std::string filler = data_ + "/filler";
  {
    std::ofstream out(filler, std::ios::binary);
    const std::string block(4096, 'x');
    while (out.write(block.data(), block.size()) && out.flush()) {
    }
  }
  // More creates than one reservation of ids (4096).
  int accepted = 0;
  for (int i = 0; i < 5000; ++i) {
    NfsClient::Opened o;
    const nfsstat4 st = c->open(root, "n" + std::to_string(i), OPEN4_SHARE_ACCESS_READ,
                                OPEN4_SHARE_DENY_NONE, true, o);
    if (st == NFS4_OK) {
      ++accepted;  // the log's preallocated space may still take some records
      c->close(o);
      continue;
    }
    ASSERT_TRUE(st == NFS4ERR_NOSPC || st == NFS4ERR_IO) << "create " << i << ": " << st;
  }
  // Most were refused, so the id reservation (near the 4096th) came while the disk was full.
  EXPECT_LT(accepted, 2000);
  // Thousands of refusals, a handful of log lines (one per 5 s per kind of error).
  {
    std::ifstream log(dir_ + "/dfs.log");
    size_t lines = 0;
    for (std::string line; std::getline(log, line);) {
      if (line.find("write failed") != std::string::npos) ++lines;
    }
    EXPECT_LT(lines, 20u) << "the log is flooded";
  }
  auto c2 = client();
  EXPECT_EQ(content(*c2, root, "kept"), kept);

  // The program's file goes. RocksDB's own recovery from a full disk looks at the free space
  // every few seconds; a create is tried until it succeeds, for at most 60 s.
  std::filesystem::remove(filler);
  nfsstat4 created = NFS4ERR_NOSPC;
  for (int tries = 0; created != NFS4_OK && tries < 600; ++tries) {
    if (tries > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    NfsClient::Opened o;
    created = c2->open(root, "after", OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, true, o);
    if (created == NFS4_OK) c2->close(o);
  }
  EXPECT_EQ(created, NFS4_OK);
  EXPECT_EQ(c2->remove(root, "kept"), NFS4_OK);
}

// A full disk is fixed the way a user fixes one: by deleting files through the mount. The
// removals must go through (the metadata store must not stay refusing every change after it
// once ran out of space), and the space they free takes new data again.
TEST_F(FullDiskTest, RemovingFilesMakesRoomAgain) {
  auto c = client();
  Fh root = c->lookup_path("/export");
  nfsstat4 refused = NFS4_OK;
  auto kept = fill(*c, root, refused);
  ASSERT_EQ(refused, NFS4ERR_NOSPC);
  ASSERT_GT(kept.size(), 8u);
  const size_t freed = kept.size() / 2;
  for (size_t i = 0; i < freed; ++i)
    EXPECT_EQ(c->remove(root, "f" + std::to_string(i)), NFS4_OK) << i;
  for (size_t i = 0; i < 4; ++i) {
    const std::string name = "again" + std::to_string(i);
    NfsClient::Opened o;
    ASSERT_EQ(c->open(root, name, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, true, o), NFS4_OK)
        << name;
    auto bytes = pattern(512 << 10, 900 + i);
    EXPECT_EQ(do_write(*c, o.fh, o.stateid, 0, bytes, FILE_SYNC4).status, NFS4_OK) << name;
    c->close(o);
    EXPECT_EQ(content(*c, root, name), bytes) << name;
  }
  for (size_t i = freed; i < kept.size(); ++i)
    EXPECT_EQ(content(*c, root, "f" + std::to_string(i)), kept[i]) << i;
}

}  // namespace
}  // namespace dfs::testing
