#include "vfs/types.h"

#include <time.h>

#include <algorithm>

namespace dfs::vfs {

Timespec now() {
  // Wall-clock time: file times are compared by clients against their own clocks (POSIX
  // st_mtim et al. are CLOCK_REALTIME). clock_gettime is served by the vDSO, so this is cheap
  // enough to call on every write.
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return Timespec{static_cast<int64_t>(ts.tv_sec), static_cast<uint32_t>(ts.tv_nsec)};
}

bool Identity::in_group(uint32_t g) const {
  // POSIX "group of the process": the effective gid or any supplementary group.
  return g == gid || std::find(groups.begin(), groups.end(), g) != groups.end();
}

const char* to_string(Status s) {
  switch (s) {
    case Status::kOk:
      return "ok";
    case Status::kPerm:
      return "operation not permitted";
    case Status::kNoEnt:
      return "no such file or directory";
    case Status::kIo:
      return "I/O error";
    case Status::kAccess:
      return "permission denied";
    case Status::kExist:
      return "file exists";
    case Status::kXDev:
      return "cross-device link";
    case Status::kNotDir:
      return "not a directory";
    case Status::kIsDir:
      return "is a directory";
    case Status::kInval:
      return "invalid argument";
    case Status::kFBig:
      return "file too large";
    case Status::kNoSpc:
      return "no space left on device";
    case Status::kRoFs:
      return "read-only file system";
    case Status::kMLink:
      return "too many links";
    case Status::kNameTooLong:
      return "file name too long";
    case Status::kNotEmpty:
      return "directory not empty";
    case Status::kStale:
      return "stale file handle";
    case Status::kNotSupp:
      return "operation not supported";
    case Status::kBadType:
      return "bad file type";
    case Status::kNotSame:
      return "attributes not the same";
  }
  return "unknown status";
}

}  // namespace dfs::vfs
