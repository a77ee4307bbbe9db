#pragma once
// POSIX permission rules as pure functions over (caller, file owner/mode/type). StoreFileSystem
// applies them; keeping them free of any store makes them testable as a table and reusable by
// other FileSystem implementations. References are to POSIX.1-2017 (XBD 4.5 "File Access
// Permissions", and the chmod/chown/rename/unlink/utimensat pages).

#include <cstdint>
#include <optional>

#include "vfs/types.h"

namespace dfs::vfs {

// The part of a file the permission rules look at.
struct FileMode {
  FileType type = FileType::kRegular;
  uint32_t mode = 0;  // 07777 bits
  uint32_t uid = 0;
  uint32_t gid = 0;

  // From anything with type/mode/uid/gid members (Attributes, InodeRecord).
  template <class T>
  static FileMode of(const T& f) {
    return FileMode{f.type, f.mode, f.uid, f.gid};
  }
};

// The subset of `requested` (kAccessRead|kAccessWrite|kAccessExecute) granted by the mode bits
// (XBD 4.5): the owner class if the caller owns the file, else the group class if the file's
// group is one of the caller's groups, else the other class. Root is granted read and write
// always, and execute only if some execute bit is set or the file is a directory (search).
uint32_t granted_access(const Identity& who, const FileMode& f, uint32_t requested);

// True when every requested rwx bit is granted (bits other than rwx are ignored).
inline bool may_access(const Identity& who, const FileMode& f, uint32_t requested) {
  requested &= kAccessRead | kAccessWrite | kAccessExecute;
  return granted_access(who, f, requested) == requested;
}

// Sticky directories (XBD 4.5 / unlink(2), rename(2)): an entry of a directory with S_ISVTX
// may be removed or renamed away only by the owner of the entry, the owner of the directory,
// or root. Returns true when the deletion is allowed (always true for non-sticky dirs).
bool may_delete_in(const Identity& who, const FileMode& dir, const FileMode& victim);

// chmod(2): only the owner or root may change the mode (kPerm otherwise). `new_mode` is
// adjusted in place: a non-root caller that is not a member of the file's group loses the
// set-group-ID bit rather than failing (POSIX chmod: "S_ISGID shall be cleared").
Status check_chmod(const Identity& who, const FileMode& f, uint32_t& new_mode);

// chown(2) with _POSIX_CHOWN_RESTRICTED: changing the owner requires root; the owner may set
// the group to one of their own groups (or leave it unchanged). Setting uid/gid to the
// current values is allowed for the owner; any change by someone else is kPerm.
Status check_chown(const Identity& who, const FileMode& f, std::optional<uint32_t> uid,
                   std::optional<uint32_t> gid);

// The mode after a successful chown: for non-directories the set-user-ID bit is cleared, and
// the set-group-ID bit too when group execute is set (setgid without group execute marks
// mandatory locking and is kept). POSIX requires this for unprivileged callers and leaves it
// implementation-defined for root; like Linux we clear it for everyone.
uint32_t mode_after_chown(const FileMode& f);

// The mode after a write by `who`: non-root writers clear set-user-ID and (with group
// execute) set-group-ID, so a modified program cannot keep privileges (POSIX write(2)).
uint32_t mode_after_write(const Identity& who, const FileMode& f);

// utimensat(2): setting explicit times needs ownership or root (kPerm); setting the times to
// "now" is also allowed to anyone with write permission (kAccess otherwise).
Status check_utimes(const Identity& who, const FileMode& f, bool explicit_times);

// The group a new node gets (set-group-ID directories pass their group down, XBD 4.5 "File
// Group ID" / BSD semantics), and whether a new directory inherits the setgid bit.
inline uint32_t new_node_gid(const Identity& who, const FileMode& parent) {
  return (parent.mode & kSetGid) ? parent.gid : who.gid;
}

}  // namespace dfs::vfs
