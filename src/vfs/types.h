#pragma once
// The file model's vocabulary: inode ids, types, attributes, caller identity and status
// codes. Nothing here knows about NFS; the nfs4 layer maps these to its wire types.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dfs::vfs {

using InodeId = uint64_t;
inline constexpr InodeId kInvalidInode = 0;

enum class FileType : uint8_t {
  kRegular = 1,
  kDirectory = 2,
  kBlockDevice = 3,
  kCharDevice = 4,
  kSymlink = 5,
  kSocket = 6,
  kFifo = 7,
};

struct Timespec {
  int64_t sec = 0;
  uint32_t nsec = 0;
  friend bool operator==(const Timespec&, const Timespec&) = default;
  friend auto operator<=>(const Timespec&, const Timespec&) = default;
};
Timespec now();

// POSIX permission bits as stored (07777); the type lives in FileType.
inline constexpr uint32_t kModeMask = 07777;
inline constexpr uint32_t kSetUid = 04000;
inline constexpr uint32_t kSetGid = 02000;
inline constexpr uint32_t kSticky = 01000;

struct DeviceNumber {
  uint32_t major = 0;
  uint32_t minor = 0;
  friend bool operator==(const DeviceNumber&, const DeviceNumber&) = default;
};

// What a file looks like from outside (GETATTR).
struct Attributes {
  InodeId id = kInvalidInode;
  FileType type = FileType::kRegular;
  uint32_t mode = 0;
  uint32_t nlink = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  uint64_t space_used = 0;
  Timespec atime, mtime, ctime, btime;
  DeviceNumber rdev;
  uint64_t change = 0;      // strictly increases on every data or metadata change
  uint64_t generation = 0;  // distinguishes reuse of an inode id (file handles carry it)
};

// A requested attribute change (SETATTR, or the initial attributes of a create).
struct SetAttributes {
  enum class TimeHow : uint8_t { kDontChange, kServerTime, kClientTime };
  std::optional<uint32_t> mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  std::optional<uint64_t> size;
  TimeHow atime_how = TimeHow::kDontChange;
  TimeHow mtime_how = TimeHow::kDontChange;
  Timespec atime, mtime;

  bool empty() const {
    return !mode && !uid && !gid && !size && atime_how == TimeHow::kDontChange &&
           mtime_how == TimeHow::kDontChange;
  }
};

// The caller, for permission checks.
struct Identity {
  uint32_t uid = 65534;
  uint32_t gid = 65534;
  std::vector<uint32_t> groups;
  bool is_root() const { return uid == 0; }
  bool in_group(uint32_t g) const;
};

// Access bits for access checks (match the POSIX rwx meaning).
inline constexpr uint32_t kAccessRead = 4;
inline constexpr uint32_t kAccessWrite = 2;
inline constexpr uint32_t kAccessExecute = 1;

enum class Status : uint8_t {
  kOk = 0,
  kPerm,         // not owner / not privileged (EPERM)
  kNoEnt,        // no such name
  kIo,           // store failure
  kAccess,       // permission bits deny (EACCES)
  kExist,        // name exists
  kXDev,         // across file systems
  kNotDir,       // a directory was needed
  kIsDir,        // a non-directory was needed
  kInval,        // bad argument (e.g. renaming a directory into itself)
  kFBig,         // beyond the maximum file size
  kNoSpc,        // store full
  kRoFs,         // read-only file system
  kMLink,        // too many links
  kNameTooLong,  // name component too long
  kNotEmpty,     // directory not empty
  kStale,        // the inode no longer exists
  kNotSupp,      // operation not supported by this file system
  kBadType,      // cannot create this type
  kNotSame,      // exclusive create: the name exists with another verifier
};
const char* to_string(Status s);

// A value or the Status that explains its absence.
template <class T>
class Result {
 public:
  Result(T value) : status_(Status::kOk), value_(std::move(value)) {}  // NOLINT
  Result(Status s) : status_(s) {}                                     // NOLINT
  bool ok() const { return status_ == Status::kOk; }
  Status status() const { return status_; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

// The directory's change attribute before and after a namespace change (NFSv4 change_info4).
struct DirChange {
  uint64_t before = 0;
  uint64_t after = 0;
};

struct DirEntry {
  std::string name;
  InodeId id = kInvalidInode;
  uint64_t cookie = 0;  // resume point: list(after_cookie = cookie) continues after this entry
};

struct FsStats {
  uint64_t bytes_total = 0;
  uint64_t bytes_free = 0;
  uint64_t bytes_avail = 0;
  uint64_t files_total = 0;
  uint64_t files_free = 0;
  uint64_t files_avail = 0;
};

}  // namespace dfs::vfs
