#pragma once
// Share and lock state (RFC 5661 §8 and §9): stateids and what they stand for, the owners
// that hold them, and per-file records of opens (for share reservations) and byte-range
// locks (for conflicts), kept in shards by file so that clients working on different files
// never take the same lock.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "nfs4/types.h"
#include "util/cells.h"
#include "util/reader_slots_shared_mutex.h"

namespace dfs::nfs4::state {

struct ClientRecord;

struct FileKey {
  uint32_t fs = 0;
  uint64_t inode = 0;
  friend bool operator==(const FileKey&, const FileKey&) = default;
};
struct FileKeyHash {
  size_t operator()(const FileKey& k) const {
    uint64_t h = (k.inode * 0x9E3779B97F4A7C15ull) ^ (uint64_t{k.fs} << 48);
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

using Other = std::array<uint8_t, kOtherSize>;
struct OtherHash {
  size_t operator()(const Other& o) const {
    uint64_t a, b;
    uint32_t c;
    std::memcpy(&a, o.data(), 8);
    std::memcpy(&c, o.data() + 8, 4);
    b = c;
    return std::hash<uint64_t>()(a * 0x9E3779B97F4A7C15ull ^ b);
  }
};

// The owner of opens or locks: (clientid, opaque owner) (§2.4 state_owner4).
struct OwnerKey {
  uint64_t clientid = 0;
  std::string owner;
  friend bool operator==(const OwnerKey&, const OwnerKey&) = default;
};
struct OwnerKeyHash {
  size_t operator()(const OwnerKey& k) const {
    return std::hash<std::string>()(k.owner) ^ std::hash<uint64_t>()(k.clientid);
  }
};

enum class StateKind : uint8_t { kOpen, kLock, kDelegation };

struct OpenOwner;
struct LockOwner;
struct OpenState;

struct StateEntry {
  Other other{};
  uint32_t seqid = 1;
  StateKind kind = StateKind::kOpen;
  ClientRecord* client = nullptr;
  FileKey file;
  Stateid stateid() const { return {seqid, other}; }
  virtual ~StateEntry() = default;
};

struct OpenState : StateEntry {
  OpenOwner* owner = nullptr;
  uint32_t access = 0;       // OPEN4_SHARE_ACCESS_* currently held
  uint32_t deny = 0;         // OPEN4_SHARE_DENY_* currently held
  uint8_t access_modes = 0;  // bit n set: access value n was granted by some OPEN
  uint8_t deny_modes = 0;    // bit n set: deny value n was granted by some OPEN
  std::vector<struct LockState*> locks;
};

struct LockState : StateEntry {
  LockOwner* owner = nullptr;
  OpenState* open = nullptr;
};

// A delegation (§10.2): the client may use the file without asking, until recalled.
enum class DelegType : uint8_t { kRead, kWrite };
struct DelegState : StateEntry {
  DelegType type = DelegType::kRead;
  SessionId session{};      // the session it was granted on (its back channel recalls it)
  std::vector<uint8_t> fh;  // the file handle CB_RECALL names
  std::chrono::system_clock::time_point granted_at;
  bool recalled = false;  // CB_RECALL sent; revoked if not returned within a lease
  std::chrono::steady_clock::time_point recalled_at;
  // The last CB_RECALL did not reach the client: it is sent again (over whichever session
  // the client has then) until the delegation is returned or revoked.
  bool recall_failed = false;
  std::chrono::steady_clock::time_point recall_sent_at;
  // Revoked (§10.2.1): no longer valid anywhere, kept only so that the client learns why
  // (DELEG_REVOKED, SEQ4_STATUS_RECALLABLE_STATE_REVOKED) until it frees it.
  bool revoked = false;
};

struct OpenOwner {
  OwnerKey key;
  ClientRecord* client = nullptr;
  std::vector<OpenState*> opens;
};

struct LockOwner {
  OwnerKey key;
  ClientRecord* client = nullptr;
  std::vector<LockState*> states;
};

// One byte-range lock; `end` is exclusive, UINT64_MAX meaning "to the end of any file".
struct LockRange {
  LockOwner* owner = nullptr;
  bool write = false;
  uint64_t start = 0;
  uint64_t end = 0;
};

// One owner's locks on one file, by start. They never overlap (a new lock replaces what it
// covers, POSIX style), so the one that could overlap a range is found in O(log n): the cost
// of a LOCK does not grow with the number of ranges an owner holds.
struct OwnerRanges {
  struct Range {
    uint64_t end = 0;
    bool write = false;
  };
  std::map<uint64_t, Range> by_start;
};

// A client waiting for a byte-range lock it was denied with a blocking lock type: it is told
// (CB_NOTIFY_LOCK, §20.11) when a lock on the file is released.
struct LockWaiter {
  uint64_t clientid = 0;
  std::string owner;
  std::vector<uint8_t> fh;
};

struct FileState {
  std::vector<OpenState*> opens;
  std::unordered_map<LockOwner*, OwnerRanges> locks;  // owners with ranges on the file
  std::vector<DelegState*> delegs;                    // not revoked
  std::vector<LockWaiter> waiters;
  bool empty() const { return opens.empty() && locks.empty() && delegs.empty() && waiters.empty(); }
};

// What one client holds in one shard (for purging a client and telling whether it holds any
// state, without scanning every owner).
struct ClientHoldings {
  std::unordered_set<OpenOwner*> open_owners;
  std::unordered_set<LockOwner*> lock_owners;
  std::unordered_set<DelegState*> delegs;  // revoked ones included until freed
  bool empty() const { return open_owners.empty() && lock_owners.empty() && delegs.empty(); }
};

// One shard of the file state: every stateid, owner and per-file record of the files that
// hash here, under one lock. A stateid's `other` names its shard (byte 4), so TEST_STATEID
// and FREE_STATEID find it without knowing the file. An owner that holds state on files in
// several shards has one record in each (v4.1 owners carry no sequence, §8.13).
struct alignas(util::kCacheLine) FileShard {
  // Every READ and WRITE takes it shared (the stateid check), from every reactor, and many
  // clients reading one file all land on its shard: readers write only their own slot.
  mutable util::ReaderSlotsSharedMutex mu;
  std::unordered_map<Other, std::unique_ptr<StateEntry>, OtherHash> states;
  std::unordered_map<FileKey, FileState, FileKeyHash> files;
  std::unordered_map<OwnerKey, std::unique_ptr<OpenOwner>, OwnerKeyHash> open_owners;
  std::unordered_map<OwnerKey, std::unique_ptr<LockOwner>, OwnerKeyHash> lock_owners;
  std::unordered_map<uint64_t, ClientHoldings> by_client;
  uint64_t next_state = 1;  // the counter part of the shard's stateids
  // Delegations held (not revoked) in this shard, by type: the I/O stateid check looks for
  // conflicting delegations only where there are some; the sum bounds max_delegations.
  std::atomic<uint32_t> read_delegs{0};
  std::atomic<uint32_t> write_delegs{0};
};

// Fits the bit mask of shards in ClientRecord::file_shards.
inline constexpr size_t kFileShards = 64;
// Where a stateid's `other` says which shard holds it.
inline constexpr size_t kOtherShardByte = 4;

inline size_t shard_index(const FileKey& k) {
  return FileKeyHash()(k) % kFileShards;
}

}  // namespace dfs::nfs4::state
