#pragma once
// One file system (a share's tree, or the read-only pseudo-root that joins the shares): a
// POSIX-like namespace with attributes and data. Every call that names a directory entry
// checks the caller's permissions against the POSIX rules (search permission on each
// directory, write permission to change it, the sticky bit, ownership for chmod/chown/utimes).
// Data calls (read, write, commit) do not check permissions: the protocol layer decides which
// checks apply (an NFSv4 READ under an open stateid is allowed by the OPEN's check).

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vfs/block_store.h"
#include "vfs/types.h"

namespace dfs::vfs {

inline constexpr size_t kMaxNameLength = 255;
inline constexpr uint32_t kMaxLinks = 65000;
inline constexpr uint64_t kMaxFileSize = (uint64_t{1} << 50);  // 1 PiB

struct CreateResult {
  Attributes attrs;
  DirChange dir_change;
  bool created = true;  // false when an existing file was opened (UNCHECKED / exclusive retry)
};

struct RenameResult {
  DirChange source;
  DirChange target;
};

struct WriteResult {
  uint64_t count = 0;
  Attributes attrs;  // after the write
};

struct ReadResult {
  ReadBuffer data;
  bool eof = false;
};

// What a new node is; used for CREATE (non-regular types) and for regular files.
struct NewNode {
  FileType type = FileType::kRegular;
  SetAttributes attrs;         // initial mode (default 0644 files, 0755 dirs), owner, size
  std::string symlink_target;  // kSymlink
  DeviceNumber rdev;           // kBlockDevice, kCharDevice
};

// How create_file treats an existing name (NFSv4 createmode4).
enum class CreateMode : uint8_t {
  kUnchecked,  // open the existing file (apply size from attrs if given)
  kGuarded,    // kExist if the name exists
  kExclusive,  // atomic create keyed by a verifier: a retry with the same verifier succeeds
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual uint64_t fsid() const = 0;
  virtual InodeId root() = 0;
  virtual bool read_only() const = 0;

  virtual Result<Attributes> getattr(InodeId id) = 0;
  // Applies `set` with the POSIX ownership rules; `guard_ctime`, if given, must match the
  // file's ctime (NFSv4 SETATTR guard) or the call fails with kNotSame.
  virtual Result<Attributes> setattr(const Identity& who, InodeId id, const SetAttributes& set,
                                     std::optional<Timespec> guard_ctime = {}) = 0;
  // The subset of `requested` (kAccess* bits) the caller is granted.
  virtual Result<uint32_t> access(const Identity& who, InodeId id, uint32_t requested) = 0;

  virtual Result<InodeId> lookup(const Identity& who, InodeId dir, std::string_view name) = 0;
  // The parent of a directory (the root is its own parent); kNotDir for non-directories.
  virtual Result<InodeId> parent(InodeId dir) = 0;

  // Creates a regular file or opens an existing one according to `mode`.
  virtual Result<CreateResult> create_file(const Identity& who, InodeId dir, std::string_view name,
                                           CreateMode mode, const SetAttributes& attrs,
                                           const std::array<uint8_t, 8>& verifier = {}) = 0;
  // Creates a directory, symlink, device, fifo or socket; kExist if the name exists.
  virtual Result<CreateResult> create_node(const Identity& who, InodeId dir, std::string_view name,
                                           const NewNode& node) = 0;
  // Removes a name; a directory must be empty.
  virtual Result<DirChange> remove(const Identity& who, InodeId dir, std::string_view name) = 0;
  // POSIX rename(2) rules: replacing an existing target of a compatible type, no directory
  // moved into its own subtree, sticky bit honoured on both directories.
  virtual Result<RenameResult> rename(const Identity& who, InodeId from_dir,
                                      std::string_view from_name, InodeId to_dir,
                                      std::string_view to_name) = 0;
  virtual Result<DirChange> link(const Identity& who, InodeId file, InodeId dir,
                                 std::string_view name) = 0;
  virtual Result<std::string> readlink(InodeId id) = 0;
  // Entries after `cookie` (0: from the start), at most max_entries, each with its
  // attributes; `eof` is set when the listing reached the end. kInval for an unknown cookie.
  struct ListedEntry {
    DirEntry entry;
    Attributes attrs;
  };
  struct Listing {
    std::vector<ListedEntry> entries;
    bool eof = false;
  };
  virtual Result<Listing> readdir(const Identity& who, InodeId dir, uint64_t cookie,
                                  size_t max_entries) = 0;

  virtual Result<ReadResult> read(InodeId id, uint64_t offset, size_t count) = 0;
  // `sync`: make the data durable before returning (FILE_SYNC / DATA_SYNC).
  virtual Result<WriteResult> write(InodeId id, uint64_t offset, std::span<const uint8_t> data,
                                    bool sync) = 0;
  // The same for bytes the transport received out of line (xdr/out_of_line.h); the payload
  // must not be used afterwards (the store may have taken its buffers). This default gathers
  // them into one buffer for write().
  virtual Result<WriteResult> write_out_of_line(InodeId id, uint64_t offset,
                                                xdr::OutOfLineBytes& data, bool sync) {
    std::vector<uint8_t> flat(data.length);
    data.copy_out(0, flat.data(), flat.size());
    return write(id, offset, flat, sync);
  }
  virtual Status commit(InodeId id) = 0;

  // The space and file counts; a store that cannot count fails (kIo).
  virtual Result<FsStats> statfs() = 0;

  // A file is open (NFSv4 OPEN state exists). A file whose last name is removed while open
  // keeps its content until the last release (POSIX unlink semantics, RFC 5661 §18.25.4).
  virtual void retain(InodeId) {}
  virtual void release(InodeId) {}
};

}  // namespace dfs::vfs
