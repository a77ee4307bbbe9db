#include "nfs4/attributes.h"

#include <charconv>
#include <optional>
#include <string>

#include "nfs4/errors.h"

namespace dfs::nfs4 {
namespace {

Bitmap make_supported() {
  return Bitmap{FATTR4_SUPPORTED_ATTRS,
                FATTR4_TYPE,
                FATTR4_FH_EXPIRE_TYPE,
                FATTR4_CHANGE,
                FATTR4_SIZE,
                FATTR4_LINK_SUPPORT,
                FATTR4_SYMLINK_SUPPORT,
                FATTR4_NAMED_ATTR,
                FATTR4_FSID,
                FATTR4_UNIQUE_HANDLES,
                FATTR4_LEASE_TIME,
                FATTR4_RDATTR_ERROR,
                FATTR4_ACLSUPPORT,
                FATTR4_CANSETTIME,
                FATTR4_CASE_INSENSITIVE,
                FATTR4_CASE_PRESERVING,
                FATTR4_CHOWN_RESTRICTED,
                FATTR4_FILEHANDLE,
                FATTR4_FILEID,
                FATTR4_FILES_AVAIL,
                FATTR4_FILES_FREE,
                FATTR4_FILES_TOTAL,
                FATTR4_HOMOGENEOUS,
                FATTR4_MAXFILESIZE,
                FATTR4_MAXLINK,
                FATTR4_MAXNAME,
                FATTR4_MAXREAD,
                FATTR4_MAXWRITE,
                FATTR4_MODE,
                FATTR4_NO_TRUNC,
                FATTR4_NUMLINKS,
                FATTR4_OWNER,
                FATTR4_OWNER_GROUP,
                FATTR4_RAWDEV,
                FATTR4_SPACE_AVAIL,
                FATTR4_SPACE_FREE,
                FATTR4_SPACE_TOTAL,
                FATTR4_SPACE_USED,
                FATTR4_TIME_ACCESS,
                FATTR4_TIME_ACCESS_SET,
                FATTR4_TIME_CREATE,
                FATTR4_TIME_DELTA,
                FATTR4_TIME_METADATA,
                FATTR4_TIME_MODIFY,
                FATTR4_TIME_MODIFY_SET,
                FATTR4_MOUNTED_ON_FILEID,
                FATTR4_SUPPATTR_EXCLCREAT,
                FATTR4_OPEN_ARGUMENTS};
}

// fattr4_open_arguments: the share access and deny values, delegation wants, claims and
// create modes OPEN accepts here (each a bitmap of the values, RFC 9754).
void put_open_arguments(xdr::Encoder& e) {
  const Bitmap access{1, 2, 3};          // READ, WRITE, BOTH
  const Bitmap deny{0, 1, 2, 3};         // NONE, READ, WRITE, BOTH
  const Bitmap want{1, 2, 3, 4, 5};      // READ, WRITE, ANY (deleg), NO_DELEG, CANCEL
  const Bitmap claim{0, 2, 4, 5};        // NULL, DELEGATE_CUR, FH, DELEG_CUR_FH
  const Bitmap create_mode{0, 1, 2, 3};  // UNCHECKED4, GUARDED4, EXCLUSIVE4, EXCLUSIVE4_1
  e(access);
  e(deny);
  e(want);
  e(claim);
  e(create_mode);
}

void put_time(xdr::Encoder& e, const vfs::Timespec& t) {
  e.i64(t.sec);
  e.u32(t.nsec);
}

void put_owner(xdr::Encoder& e, uint32_t id) {
  char buf[16];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, id);
  e.string(std::string_view(buf, static_cast<size_t>(end - buf)));
}

// The attributes that come from the file system's counts (statfs), not the object.
bool asks_fs_stats(const Bitmap& mask) {
  for (uint32_t bit : {FATTR4_FILES_AVAIL, FATTR4_FILES_FREE, FATTR4_FILES_TOTAL,
                       FATTR4_SPACE_AVAIL, FATTR4_SPACE_FREE, FATTR4_SPACE_TOTAL}) {
    if (mask.test(bit)) return true;
  }
  return false;
}

// Encodes one attribute's value; `stats` is set when the mask asks for any of them.
void encode_one(uint32_t bit, const AttrSource& s, xdr::Encoder& e,
                const std::optional<vfs::FsStats>& stats) {
  const vfs::Attributes& a = *s.attrs;
  auto fs_stats = [&]() -> const vfs::FsStats& { return *stats; };
  switch (bit) {
    case FATTR4_SUPPORTED_ATTRS:
      e(supported_attrs());
      break;
    case FATTR4_TYPE:
      e.u32(to_ftype(a.type));
      break;
    case FATTR4_FH_EXPIRE_TYPE:
      e.u32(FH4_PERSISTENT);
      break;
    case FATTR4_CHANGE:
      e.u64(a.change);
      break;
    case FATTR4_SIZE:
      e.u64(a.size);
      break;
    case FATTR4_LINK_SUPPORT:
      e.boolean(true);
      break;
    case FATTR4_SYMLINK_SUPPORT:
      e.boolean(true);
      break;
    case FATTR4_NAMED_ATTR:
      e.boolean(false);
      break;
    case FATTR4_FSID:
      e.u64(s.fs->fsid());
      e.u64(0);
      break;
    case FATTR4_UNIQUE_HANDLES:
      e.boolean(true);
      break;
    case FATTR4_LEASE_TIME:
      e.u32(s.settings->lease_time);
      break;
    case FATTR4_RDATTR_ERROR:
      e.u32(s.rdattr_error);
      break;
    case FATTR4_ACLSUPPORT:
      e.u32(0);
      break;
    case FATTR4_CANSETTIME:
      e.boolean(true);
      break;
    case FATTR4_CASE_INSENSITIVE:
      e.boolean(false);
      break;
    case FATTR4_CASE_PRESERVING:
      e.boolean(true);
      break;
    case FATTR4_CHOWN_RESTRICTED:
      e.boolean(true);
      break;
    case FATTR4_FILEHANDLE:
      e(*s.fh);
      break;
    case FATTR4_FILEID:
      e.u64(a.id);
      break;
    case FATTR4_FILES_AVAIL:
      e.u64(fs_stats().files_avail);
      break;
    case FATTR4_FILES_FREE:
      e.u64(fs_stats().files_free);
      break;
    case FATTR4_FILES_TOTAL:
      e.u64(fs_stats().files_total);
      break;
    case FATTR4_HOMOGENEOUS:
      e.boolean(true);
      break;
    case FATTR4_MAXFILESIZE:
      e.u64(vfs::kMaxFileSize);
      break;
    case FATTR4_MAXLINK:
      e.u32(vfs::kMaxLinks);
      break;
    case FATTR4_MAXNAME:
      e.u32(static_cast<uint32_t>(vfs::kMaxNameLength));
      break;
    case FATTR4_MAXREAD:
      e.u64(s.settings->max_read_size);
      break;
    case FATTR4_MAXWRITE:
      e.u64(s.settings->max_write_size);
      break;
    case FATTR4_MODE:
      e.u32(a.mode & MODE4_MASK);
      break;
    case FATTR4_NO_TRUNC:
      e.boolean(true);
      break;
    case FATTR4_NUMLINKS:
      e.u32(a.nlink);
      break;
    case FATTR4_OWNER:
      put_owner(e, a.uid);
      break;
    case FATTR4_OWNER_GROUP:
      put_owner(e, a.gid);
      break;
    case FATTR4_RAWDEV:
      e.u32(a.rdev.major);
      e.u32(a.rdev.minor);
      break;
    case FATTR4_SPACE_AVAIL:
      e.u64(fs_stats().bytes_avail);
      break;
    case FATTR4_SPACE_FREE:
      e.u64(fs_stats().bytes_free);
      break;
    case FATTR4_SPACE_TOTAL:
      e.u64(fs_stats().bytes_total);
      break;
    case FATTR4_SPACE_USED:
      e.u64(a.space_used);
      break;
    case FATTR4_TIME_ACCESS:
      put_time(e, a.atime);
      break;
    case FATTR4_TIME_CREATE:
      put_time(e, a.btime);
      break;
    case FATTR4_TIME_DELTA:
      put_time(e, {0, 1});
      break;
    case FATTR4_TIME_METADATA:
      put_time(e, a.ctime);
      break;
    case FATTR4_TIME_MODIFY:
      put_time(e, a.mtime);
      break;
    case FATTR4_MOUNTED_ON_FILEID:
      e.u64(s.mounted_on_fileid);
      break;
    case FATTR4_SUPPATTR_EXCLCREAT:
      e(exclcreat_attrs());
      break;
    case FATTR4_OPEN_ARGUMENTS:
      put_open_arguments(e);
      break;
    default:
      break;
  }
}

bool read_settime(xdr::Decoder& d, vfs::SetAttributes::TimeHow& how, vfs::Timespec& t,
                  nfsstat4& err) {
  uint32_t h = 0;
  if (!d.u32(h)) return false;
  if (h == SET_TO_SERVER_TIME4) {
    how = vfs::SetAttributes::TimeHow::kServerTime;
    return true;
  }
  if (h != SET_TO_CLIENT_TIME4) {
    d.fail();
    return false;
  }
  int64_t sec = 0;
  uint32_t nsec = 0;
  if (!d.i64(sec) || !d.u32(nsec)) return false;
  if (nsec >= 1000000000u) err = NFS4ERR_INVAL;
  how = vfs::SetAttributes::TimeHow::kClientTime;
  t = {sec, nsec};
  return true;
}

}  // namespace

const Bitmap& supported_attrs() {
  static const Bitmap b = make_supported();
  return b;
}

const Bitmap& settable_attrs() {
  static const Bitmap b{
      FATTR4_SIZE,           FATTR4_MODE, FATTR4_OWNER, FATTR4_OWNER_GROUP, FATTR4_TIME_ACCESS_SET,
      FATTR4_TIME_MODIFY_SET};
  return b;
}

const Bitmap& write_only_attrs() {
  static const Bitmap b{FATTR4_TIME_ACCESS_SET, FATTR4_TIME_MODIFY_SET};
  return b;
}

// The verifier of an exclusive create is kept apart from the attributes, so every settable
// attribute may accompany EXCLUSIVE4_1 (§18.16.3).
const Bitmap& exclcreat_attrs() {
  return settable_attrs();
}

nfs_ftype4 to_ftype(vfs::FileType t) {
  switch (t) {
    case vfs::FileType::kRegular:
      return NF4REG;
    case vfs::FileType::kDirectory:
      return NF4DIR;
    case vfs::FileType::kBlockDevice:
      return NF4BLK;
    case vfs::FileType::kCharDevice:
      return NF4CHR;
    case vfs::FileType::kSymlink:
      return NF4LNK;
    case vfs::FileType::kSocket:
      return NF4SOCK;
    case vfs::FileType::kFifo:
      return NF4FIFO;
  }
  return NF4REG;
}

nfsstat4 encode_attrs(const Bitmap& request, const AttrSource& src, Fattr& out) {
  out.mask = (request & supported_attrs()) - write_only_attrs();
  out.vals.clear();
  // The counts are read once, before anything is encoded, so a store that cannot give them
  // fails the whole request rather than leaving half an attribute list.
  std::optional<vfs::FsStats> stats;
  if (asks_fs_stats(out.mask)) {
    auto got = src.fs->statfs();
    if (!got.ok()) {
      out.mask = Bitmap{};
      return to_nfs(got.status());
    }
    stats = *got;
  }
  xdr::Encoder e(out.vals);
  out.mask.for_each([&](uint32_t bit) { encode_one(bit, src, e, stats); });
  return NFS4_OK;
}

size_t max_attr_size(const Bitmap& request) {
  size_t n = 4 + 4 * Bitmap::kWords + 4;  // bitmap and length
  (request & supported_attrs()).for_each([&](uint32_t bit) {
    switch (bit) {
      case FATTR4_SUPPORTED_ATTRS:
      case FATTR4_SUPPATTR_EXCLCREAT:
        n += 4 + 4 * Bitmap::kWords;
        break;
      case FATTR4_OPEN_ARGUMENTS:
        n += 5 * (4 + 4 * Bitmap::kWords);
        break;
      case FATTR4_FILEHANDLE:
        n += 4 + kFhSize;
        break;
      case FATTR4_OWNER:
      case FATTR4_OWNER_GROUP:
        n += 4 + 12;
        break;
      case FATTR4_FSID:
      case FATTR4_RAWDEV:
        n += 16;
        break;
      default:
        n += 12;
        break;
    }
  });
  return n;
}

bool parse_owner(const std::string& s, uint32_t& id) {
  std::string_view v = s;
  if (auto at = v.find('@'); at != std::string_view::npos) v = v.substr(0, at);
  if (v == "root") {
    id = 0;
    return true;
  }
  if (v == "nobody") {
    id = 65534;
    return true;
  }
  if (v.empty()) return false;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), id);
  return ec == std::errc() && end == v.data() + v.size();
}

nfsstat4 decode_settable(const Fattr& in, vfs::SetAttributes& out) {
  if (in.mask.has_unknown() || !(in.mask - supported_attrs()).empty()) {
    return NFS4ERR_ATTRNOTSUPP;
  }
  if (!(in.mask - settable_attrs()).empty()) return NFS4ERR_INVAL;  // read-only attribute
  xdr::Decoder d(in.vals.span());
  nfsstat4 err = NFS4_OK;
  in.mask.for_each([&](uint32_t bit) {
    if (!d.ok()) return;
    switch (bit) {
      case FATTR4_SIZE: {
        uint64_t v = 0;
        if (d.u64(v)) out.size = v;
        break;
      }
      case FATTR4_MODE: {
        uint32_t v = 0;
        if (d.u32(v)) {
          if (v & ~MODE4_MASK) err = NFS4ERR_INVAL;
          out.mode = v & MODE4_MASK;
        }
        break;
      }
      case FATTR4_OWNER:
      case FATTR4_OWNER_GROUP: {
        std::string s;
        if (!d.string(s, kOpaqueLimit)) break;
        uint32_t id = 0;
        if (!parse_owner(s, id)) {
          if (err == NFS4_OK) err = NFS4ERR_BADOWNER;
          break;
        }
        (bit == FATTR4_OWNER ? out.uid : out.gid) = id;
        break;
      }
      case FATTR4_TIME_ACCESS_SET:
        read_settime(d, out.atime_how, out.atime, err);
        break;
      case FATTR4_TIME_MODIFY_SET:
        read_settime(d, out.mtime_how, out.mtime, err);
        break;
      default:
        break;
    }
  });
  if (!d.ok() || d.remaining() != 0) return NFS4ERR_BADXDR;
  return err;
}

nfsstat4 compare_attrs(const Fattr& given, const AttrSource& src, bool& same) {
  if (given.mask.has_unknown() || !(given.mask - supported_attrs()).empty()) {
    return NFS4ERR_ATTRNOTSUPP;
  }
  // Write-only attributes and rdattr_error cannot be compared (§18.31.3).
  if (!(given.mask & write_only_attrs()).empty() || given.mask.test(FATTR4_RDATTR_ERROR)) {
    return NFS4ERR_INVAL;
  }
  Fattr ours;
  if (nfsstat4 st = encode_attrs(given.mask, src, ours); st != NFS4_OK) return st;
  same = ours.vals.size() == given.vals.size() &&
         std::equal(ours.vals.data(), ours.vals.data() + ours.vals.size(), given.vals.data());
  return NFS4_OK;
}

}  // namespace dfs::nfs4
