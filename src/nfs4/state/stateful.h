#pragma once
// Share and lock state (RFC 5661 §8 and §9): stateids and what they stand for, the owners
// that hold them, and per-file records of opens (for share reservations) and byte-range
// locks (for conflicts).

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "nfs4/types.h"

namespace dfs::nfs4::state {

struct ClientRecord;

struct FileKey {
  uint32_t fs = 0;
  uint64_t inode = 0;
  friend bool operator==(const FileKey&, const FileKey&) = default;
};
struct FileKeyHash {
  size_t operator()(const FileKey& k) const { return std::hash<uint64_t>()(k.inode * 31 + k.fs); }
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

struct FileState {
  std::vector<OpenState*> opens;
  std::vector<LockRange> locks;
  bool empty() const { return opens.empty() && locks.empty(); }
};

}  // namespace dfs::nfs4::state
