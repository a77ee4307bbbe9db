#pragma once
// File-model status to NFSv4 status.

#include "nfs4/constants.h"
#include "vfs/types.h"

namespace dfs::nfs4 {

inline nfsstat4 to_nfs(vfs::Status s) {
  using vfs::Status;
  switch (s) {
    case Status::kOk:
      return NFS4_OK;
    case Status::kPerm:
      return NFS4ERR_PERM;
    case Status::kNoEnt:
      return NFS4ERR_NOENT;
    case Status::kIo:
      return NFS4ERR_IO;
    case Status::kAccess:
      return NFS4ERR_ACCESS;
    case Status::kExist:
      return NFS4ERR_EXIST;
    case Status::kXDev:
      return NFS4ERR_XDEV;
    case Status::kNotDir:
      return NFS4ERR_NOTDIR;
    case Status::kIsDir:
      return NFS4ERR_ISDIR;
    case Status::kInval:
      return NFS4ERR_INVAL;
    case Status::kFBig:
      return NFS4ERR_FBIG;
    case Status::kNoSpc:
      return NFS4ERR_NOSPC;
    case Status::kRoFs:
      return NFS4ERR_ROFS;
    case Status::kMLink:
      return NFS4ERR_MLINK;
    case Status::kNameTooLong:
      return NFS4ERR_NAMETOOLONG;
    case Status::kNotEmpty:
      return NFS4ERR_NOTEMPTY;
    case Status::kStale:
      return NFS4ERR_STALE;
    case Status::kNotSupp:
      return NFS4ERR_NOTSUPP;
    case Status::kBadType:
      return NFS4ERR_BADTYPE;
    case Status::kNotSame:
      return NFS4ERR_NOT_SAME;
  }
  return NFS4ERR_SERVERFAULT;
}

}  // namespace dfs::nfs4
