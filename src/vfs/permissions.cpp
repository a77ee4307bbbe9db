#include "vfs/permissions.h"

namespace dfs::vfs {

namespace {
constexpr uint32_t kAllAccess = kAccessRead | kAccessWrite | kAccessExecute;
constexpr uint32_t kAnyExecute = 0111;
constexpr uint32_t kGroupExecute = 0010;
}  // namespace

uint32_t granted_access(const Identity& who, const FileMode& f, uint32_t requested) {
  requested &= kAllAccess;
  if (who.is_root()) {
    // Appropriate privileges override read/write; execute is granted only when the file is
    // executable by someone (or is a directory, where "execute" means search).
    uint32_t granted = kAccessRead | kAccessWrite;
    if (f.type == FileType::kDirectory || (f.mode & kAnyExecute)) granted |= kAccessExecute;
    return requested & granted;
  }
  // Exactly one class applies (XBD 4.5): a more restrictive owner class is not widened by the
  // group or other bits.
  uint32_t bits;
  if (who.uid == f.uid) {
    bits = (f.mode >> 6) & 7;
  } else if (who.in_group(f.gid)) {
    bits = (f.mode >> 3) & 7;
  } else {
    bits = f.mode & 7;
  }
  return requested & bits;
}

bool may_delete_in(const Identity& who, const FileMode& dir, const FileMode& victim) {
  if (!(dir.mode & kSticky)) return true;
  return who.is_root() || who.uid == dir.uid || who.uid == victim.uid;
}

Status check_chmod(const Identity& who, const FileMode& f, uint32_t& new_mode) {
  new_mode &= kModeMask;
  if (!who.is_root() && who.uid != f.uid) return Status::kPerm;
  if (!who.is_root() && (new_mode & kSetGid) && !who.in_group(f.gid)) new_mode &= ~kSetGid;
  return Status::kOk;
}

Status check_chown(const Identity& who, const FileMode& f, std::optional<uint32_t> uid,
                   std::optional<uint32_t> gid) {
  if (who.is_root()) return Status::kOk;
  if (!uid && !gid) return Status::kOk;
  // Only the owner may call chown at all; with restricted chown the owner cannot give the file
  // away, and may only pick a group they belong to.
  if (who.uid != f.uid) return Status::kPerm;
  if (uid && *uid != f.uid) return Status::kPerm;
  if (gid && *gid != f.gid && !who.in_group(*gid)) return Status::kPerm;
  return Status::kOk;
}

uint32_t mode_after_chown(const FileMode& f) {
  uint32_t mode = f.mode & kModeMask;
  if (f.type == FileType::kDirectory) return mode;
  mode &= ~kSetUid;
  if (mode & kGroupExecute) mode &= ~kSetGid;
  return mode;
}

uint32_t mode_after_write(const Identity& who, const FileMode& f) {
  uint32_t mode = f.mode & kModeMask;
  if (who.is_root() || f.type != FileType::kRegular) return mode;
  mode &= ~kSetUid;
  if (mode & kGroupExecute) mode &= ~kSetGid;
  return mode;
}

Status check_utimes(const Identity& who, const FileMode& f, bool explicit_times) {
  if (who.is_root() || who.uid == f.uid) return Status::kOk;
  if (explicit_times) return Status::kPerm;
  return may_access(who, f, kAccessWrite) ? Status::kOk : Status::kAccess;
}

}  // namespace dfs::vfs
