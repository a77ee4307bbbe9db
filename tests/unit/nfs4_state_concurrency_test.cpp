// The state manager driven from several threads at once, as the reactors drive it: each
// thread is a client with its own session and connections, and all of them open, lock,
// check, unlock and close files from one shared set, bind and lose extra connections, and
// make and destroy extra sessions. Invariants are checked during the run (two owners never
// hold overlapping write locks; a granted share never meets a conflicting one) and at the
// end (no open, lock or binding left behind; every first open of a file matched by a last
// close). Run under ThreadSanitizer by scripts/tsan.sh.

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "nfs4/state/state_manager.h"

namespace dfs::nfs4::state {
namespace {

constexpr int kThreads = 6;
constexpr int kFiles = 12;
constexpr int kUnits = 16;  // lockable units (bytes) per file
constexpr int kRounds = 1500;

ChannelAttrs chan(uint32_t slots) {
  ChannelAttrs a;
  a.maxrequestsize = 1u << 20;
  a.maxresponsesize = 1u << 20;
  a.maxresponsesize_cached = 64u << 10;
  a.maxoperations = 16;
  a.maxrequests = slots;
  return a;
}

std::shared_ptr<rpc::Connection> conn(uint64_t id) {
  return std::make_shared<rpc::Connection>(id, -1, "peer", nullptr);
}

// Ground truth the threads keep beside the server: who holds each lock unit, and the share
// reservations granted (a deny-write open next to a write open would be a server bug).
struct Truth {
  std::array<std::array<std::atomic<int>, kUnits>, kFiles> lock_owner{};
  std::array<std::atomic<int>, kFiles> writers{};
  std::array<std::atomic<int>, kFiles> deny_writers{};
  std::atomic<int> violations{0};
};

class Player {
 public:
  Player(StateManager& sm, Truth& truth, int id) : sm_(sm), truth_(truth), id_(id), rng_(id) {}

  void setup() {
    ExchangeIdArgs ea;
    std::string owner = "player-" + std::to_string(id_);
    ea.clientowner.ownerid.assign(owner.begin(), owner.end());
    ea.clientowner.verifier.fill(static_cast<uint8_t>(id_));
    ExchangeIdOk eo;
    ASSERT_EQ(sm_.exchange_id(ea, who_, "peer", 1, eo), NFS4_OK);
    CreateSessionArgs ca;
    ca.clientid = eo.clientid;
    ca.sequence = eo.sequenceid;
    ca.fore = chan(8);
    ca.back = chan(1);
    CreateSessionOk co;
    conn_ = conn(1000 + id_);
    ASSERT_EQ(sm_.create_session(ca, who_, conn_, co), NFS4_OK);
    clientid_ = eo.clientid;
    create_seq_ = eo.sequenceid + 1;
    sid_ = co.sessionid;
    auto out = sequence(0);
    ASSERT_EQ(out.status, NFS4_OK);
    session_ = out.session;
    rec_ = session_->client.get();
    sm_.finish_request(*session_, 0, false, {});
    ASSERT_EQ(sm_.reclaim_complete(*rec_, false), NFS4_OK);
  }

  void play() {
    for (int round = 0; round < kRounds; ++round) {
      switch (rng_() % 8) {
        case 0:
        case 1:
          open_one();
          break;
        case 2:
          lock_one();
          break;
        case 3:
          unlock_one();
          break;
        case 4:
          close_one();
          break;
        case 5:
          check_all();
          break;
        case 6:
          churn_connection();
          break;
        case 7:
          churn_session();
          break;
      }
      auto out = sequence(1);
      if (out.status != NFS4_OK)
        truth_.violations++;
      else
        sm_.finish_request(*out.session, 1, false, {});
    }
    // Let go of everything.
    while (!locks_.empty())
      unlock_one();
    while (!opens_.empty())
      close_one();
  }

 private:
  struct Open {
    int file;
    Stateid stateid;
    bool write;
    bool deny_write;
  };
  struct Held {
    int file;
    int from, to;
    Stateid stateid;  // the lock stateid
  };

  static FileKey key(int file) { return {7, static_cast<uint64_t>(100 + file)}; }

  SequenceOutcome sequence(uint32_t slot) {
    SequenceArgs a;
    a.sessionid = sid_;
    a.slotid = slot;
    a.sequenceid = ++seq_[slot];
    a.highest_slotid = 7;
    SequenceOk ok;
    return sm_.sequence(a, 1, conn_, 100, 2, 100, ok);
  }

  void open_one() {
    const int file = static_cast<int>(rng_() % kFiles);
    for (const auto& o : opens_) {
      if (o.file == file) return;  // one open per file per player keeps the books simple
    }
    const bool write = rng_() % 2;
    const bool deny_write = rng_() % 5 == 0;
    const uint32_t access = write ? OPEN4_SHARE_ACCESS_BOTH : OPEN4_SHARE_ACCESS_READ;
    const uint32_t deny = deny_write ? OPEN4_SHARE_DENY_WRITE : OPEN4_SHARE_DENY_NONE;
    Stateid sid;
    auto guard = sm_.lock_file(key(file));
    nfsstat4 st =
        sm_.open_locked(*rec_, OwnerKey{clientid_, "owner"}, key(file), access, deny, sid);
    if (st == NFS4ERR_SHARE_DENIED) return;
    if (st != NFS4_OK) {
      truth_.violations++;
      return;
    }
    // Granted while the file's shard is locked: no other open can change under us.
    if ((write && truth_.deny_writers[file] > 0) || (deny_write && truth_.writers[file] > 0)) {
      truth_.violations++;
    }
    if (write) truth_.writers[file]++;
    if (deny_write) truth_.deny_writers[file]++;
    opens_.push_back({file, sid, write, deny_write});
  }

  void lock_one() {
    std::vector<size_t> writable;
    for (size_t i = 0; i < opens_.size(); ++i) {
      if (opens_[i].write) writable.push_back(i);
    }
    if (writable.empty()) return;
    Open& o = opens_[writable[rng_() % writable.size()]];
    for (const auto& h : locks_) {
      if (h.file == o.file) return;  // one range per file per player
    }
    const int from = static_cast<int>(rng_() % kUnits);
    const int to = std::min(kUnits, from + 1 + static_cast<int>(rng_() % 4));
    LockArgs a;
    a.locktype = WRITE_LT;
    a.offset = static_cast<uint64_t>(from);
    a.length = static_cast<uint64_t>(to - from);
    a.locker.new_lock_owner = true;
    a.locker.open_stateid = o.stateid;
    std::string owner = "locker-" + std::to_string(id_);
    a.locker.lock_owner.owner.assign(owner.begin(), owner.end());
    LockResult out;
    nfsstat4 st = sm_.lock(*rec_, a, key(o.file), out);
    if (st == NFS4ERR_DENIED) return;
    if (st != NFS4_OK) {
      truth_.violations++;
      return;
    }
    // While we hold it nobody else may: claim the units and look for another claimant.
    for (int u = from; u < to; ++u) {
      if (truth_.lock_owner[o.file][u].exchange(id_ + 1) != 0) truth_.violations++;
    }
    locks_.push_back({o.file, from, to, out.stateid});
  }

  void unlock_one() {
    if (locks_.empty()) return;
    Held h = locks_.back();
    locks_.pop_back();
    for (int u = h.from; u < h.to; ++u)
      truth_.lock_owner[h.file][u].store(0);
    LockuArgs a;
    a.locktype = WRITE_LT;
    a.stateid = h.stateid;
    a.offset = static_cast<uint64_t>(h.from);
    a.length = static_cast<uint64_t>(h.to - h.from);
    Stateid out;
    if (sm_.locku(*rec_, a, key(h.file), out) != NFS4_OK) truth_.violations++;
    // The lock stateid has no locks left: free it (§18.38).
    if (sm_.free_stateid(*rec_, out) != NFS4_OK) truth_.violations++;
  }

  void close_one() {
    if (opens_.empty()) return;
    Open o = opens_.back();
    for (size_t i = 0; i < locks_.size();) {
      if (locks_[i].file == o.file) {
        std::swap(locks_[i], locks_.back());
        unlock_one();
      } else {
        ++i;
      }
    }
    opens_.pop_back();
    {
      // Released before CLOSE, under the shard lock, so a competing OPEN never sees our
      // reservation gone from the books while the server still has it.
      auto guard = sm_.lock_file(key(o.file));
      if (o.write) truth_.writers[o.file]--;
      if (o.deny_write) truth_.deny_writers[o.file]--;
    }
    Stateid out;
    if (sm_.close(*rec_, o.stateid, key(o.file), out) != NFS4_OK) truth_.violations++;
  }

  void check_all() {
    for (const auto& o : opens_) {
      if (sm_.check_io(rec_, o.stateid, key(o.file), o.write) != NFS4_OK) truth_.violations++;
      if (sm_.test_stateid(*rec_, o.stateid) != NFS4_OK) truth_.violations++;
    }
  }

  void churn_connection() {
    auto extra = conn(100000 + id_ * 1000 + serial_++);
    BindConnArgs a;
    a.sessionid = sid_;
    a.dir = CDFC4_FORE;
    BindConnOk ok;
    if (sm_.bind_connection(a, who_, extra, ok) != NFS4_OK) truth_.violations++;
    sm_.connection_closed(extra->id());
  }

  void churn_session() {
    CreateSessionArgs ca;
    ca.clientid = clientid_;
    ca.sequence = create_seq_;
    ca.fore = chan(2);
    ca.back = chan(1);
    CreateSessionOk co;
    auto c = conn(200000 + id_ * 1000 + serial_++);
    if (sm_.create_session(ca, who_, c, co) != NFS4_OK) {
      truth_.violations++;
      return;
    }
    create_seq_++;
    if (sm_.destroy_session(co.sessionid, who_, c, nullptr) != NFS4_OK) truth_.violations++;
    sm_.connection_closed(c->id());
  }

  StateManager& sm_;
  Truth& truth_;
  const int id_;
  std::mt19937 rng_;
  Principal who_{rpc::AuthFlavor::kSys, 0};
  std::shared_ptr<rpc::Connection> conn_;
  uint64_t clientid_ = 0;
  uint32_t create_seq_ = 0;
  SessionId sid_{};
  std::shared_ptr<Session> session_;
  ClientRecord* rec_ = nullptr;
  std::array<uint32_t, 8> seq_{};
  std::vector<Open> opens_;
  std::vector<Held> locks_;
  uint64_t serial_ = 0;
};

TEST(StateConcurrency, ClientsOnManyThreadsKeepEveryInvariant) {
  SettingsHolder settings;
  StateManager sm(settings);
  std::mutex hook_mu;
  std::map<uint64_t, int> opened;  // per inode: first opens minus last closes
  sm.set_file_open_hook([&](const FileKey& f, bool open) {
    std::lock_guard lock(hook_mu);
    opened[f.inode] += open ? 1 : -1;
    if (opened[f.inode] < 0 || opened[f.inode] > 1) ADD_FAILURE() << "unbalanced open hook";
  });
  Truth truth;
  std::vector<std::unique_ptr<Player>> players;
  for (int i = 0; i < kThreads; ++i) {
    players.push_back(std::make_unique<Player>(sm, truth, i));
    players.back()->setup();
  }
  std::vector<std::thread> threads;
  for (auto& p : players)
    threads.emplace_back([&p] { p->play(); });
  for (auto& t : threads)
    t.join();

  EXPECT_EQ(truth.violations, 0);
  EXPECT_EQ(sm.open_count(), 0u);
  EXPECT_EQ(sm.lock_count(), 0u);
  EXPECT_EQ(sm.client_count(), static_cast<size_t>(kThreads));
  EXPECT_EQ(sm.session_count(), static_cast<size_t>(kThreads));
  EXPECT_EQ(sm.slots_in_use(), 0u);
  for (const auto& [inode, n] : opened)
    EXPECT_EQ(n, 0) << "inode " << inode << " left open";
  for (const auto& c : sm.clients()) {
    auto s = sm.sessions(c.id);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].connections.size(), 1u);  // only the one CREATE_SESSION bound
  }
}

}  // namespace
}  // namespace dfs::nfs4::state
