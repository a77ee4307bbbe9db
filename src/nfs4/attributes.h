#pragma once
// File attributes on the wire (RFC 5661 §5): which ones we support, encoding an object's
// attributes for GETATTR and READDIR, decoding the settable ones for SETATTR / CREATE / OPEN,
// and comparing for VERIFY / NVERIFY.

#include <cstdint>

#include "nfs4/settings.h"
#include "nfs4/types.h"
#include "vfs/file_system.h"

namespace dfs::nfs4 {

enum AttrId : uint32_t {
  FATTR4_SUPPORTED_ATTRS = 0,
  FATTR4_TYPE = 1,
  FATTR4_FH_EXPIRE_TYPE = 2,
  FATTR4_CHANGE = 3,
  FATTR4_SIZE = 4,
  FATTR4_LINK_SUPPORT = 5,
  FATTR4_SYMLINK_SUPPORT = 6,
  FATTR4_NAMED_ATTR = 7,
  FATTR4_FSID = 8,
  FATTR4_UNIQUE_HANDLES = 9,
  FATTR4_LEASE_TIME = 10,
  FATTR4_RDATTR_ERROR = 11,
  FATTR4_ACL = 12,
  FATTR4_ACLSUPPORT = 13,
  FATTR4_CANSETTIME = 15,
  FATTR4_CASE_INSENSITIVE = 16,
  FATTR4_CASE_PRESERVING = 17,
  FATTR4_CHOWN_RESTRICTED = 18,
  FATTR4_FILEHANDLE = 19,
  FATTR4_FILEID = 20,
  FATTR4_FILES_AVAIL = 21,
  FATTR4_FILES_FREE = 22,
  FATTR4_FILES_TOTAL = 23,
  FATTR4_HOMOGENEOUS = 26,
  FATTR4_MAXFILESIZE = 27,
  FATTR4_MAXLINK = 28,
  FATTR4_MAXNAME = 29,
  FATTR4_MAXREAD = 30,
  FATTR4_MAXWRITE = 31,
  FATTR4_MODE = 33,
  FATTR4_NO_TRUNC = 34,
  FATTR4_NUMLINKS = 35,
  FATTR4_OWNER = 36,
  FATTR4_OWNER_GROUP = 37,
  FATTR4_RAWDEV = 41,
  FATTR4_SPACE_AVAIL = 42,
  FATTR4_SPACE_FREE = 43,
  FATTR4_SPACE_TOTAL = 44,
  FATTR4_SPACE_USED = 45,
  FATTR4_TIME_ACCESS = 47,
  FATTR4_TIME_ACCESS_SET = 48,
  FATTR4_TIME_CREATE = 50,
  FATTR4_TIME_DELTA = 51,
  FATTR4_TIME_METADATA = 52,
  FATTR4_TIME_MODIFY = 53,
  FATTR4_TIME_MODIFY_SET = 54,
  FATTR4_MOUNTED_ON_FILEID = 55,
  FATTR4_SUPPATTR_EXCLCREAT = 75,
  FATTR4_OPEN_ARGUMENTS = 86,  // RFC 9754 (OPEN extensions): what OPEN accepts
};

const Bitmap& supported_attrs();
const Bitmap& settable_attrs();
const Bitmap& write_only_attrs();
const Bitmap& exclcreat_attrs();

// What attribute encoding needs to know about one object.
struct AttrSource {
  const vfs::Attributes* attrs = nullptr;
  const Fh* fh = nullptr;
  vfs::FileSystem* fs = nullptr;  // for the space and file counts, fetched only if asked
  uint64_t mounted_on_fileid = 0;
  const Settings* settings = nullptr;
  nfsstat4 rdattr_error = NFS4_OK;
};

// Encodes the requested attributes we support (write-only ones excluded) into `out`. Fails
// (NFS4ERR_IO, ...) only when the file system cannot give the space or file counts asked for.
nfsstat4 encode_attrs(const Bitmap& request, const AttrSource& src, Fattr& out);
// Bytes the encoding will need at most, for reply-size planning.
size_t max_attr_size(const Bitmap& request);

// Decodes a settable attribute list. ATTRNOTSUPP for unsupported attributes, INVAL for
// read-only ones or bad values, BADOWNER for owners we cannot map, BADXDR for bad encoding.
nfsstat4 decode_settable(const Fattr& in, vfs::SetAttributes& out);

// VERIFY/NVERIFY (§18.31, §18.15): are the given values equal to the object's?
nfsstat4 compare_attrs(const Fattr& given, const AttrSource& src, bool& same);

// Owner strings: numeric ("1000", "1000@domain") plus "root" and "nobody".
bool parse_owner(const std::string& s, uint32_t& id);

nfs_ftype4 to_ftype(vfs::FileType t);

}  // namespace dfs::nfs4
