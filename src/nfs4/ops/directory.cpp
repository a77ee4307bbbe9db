// Directory operations: CREATE (§18.4), REMOVE (§18.25), RENAME (§18.26), LINK (§18.9),
// READLINK (§18.24) and READDIR (§18.23).

#include "nfs4/attributes.h"
#include "nfs4/errors.h"
#include "nfs4/ops/handlers.h"

namespace dfs::nfs4::ops {
namespace {

ChangeInfo to_cinfo(const vfs::DirChange& d) {
  // The namespace lock makes each change atomic with its before/after values.
  return {true, d.before, d.after};
}

}  // namespace

nfsstat4 create(Compound& c, CreateArgs& a, CreateResult& r) {
  vfs::NewNode node;
  switch (a.objtype.type) {
    case NF4DIR:
      node.type = vfs::FileType::kDirectory;
      break;
    case NF4LNK:
      node.type = vfs::FileType::kSymlink;
      if (a.objtype.linkdata.empty()) return NFS4ERR_INVAL;
      node.symlink_target = a.objtype.linkdata;
      break;
    case NF4BLK:
    case NF4CHR:
      node.type =
          a.objtype.type == NF4BLK ? vfs::FileType::kBlockDevice : vfs::FileType::kCharDevice;
      node.rdev = {a.objtype.devdata.major, a.objtype.devdata.minor};
      break;
    case NF4SOCK:
      node.type = vfs::FileType::kSocket;
      break;
    case NF4FIFO:
      node.type = vfs::FileType::kFifo;
      break;
    default:
      return NFS4ERR_BADTYPE;  // regular files are made by OPEN (§18.4.3)
  }
  if (auto st = require_dir(c); st != NFS4_OK) return st;
  if (auto st = check_name(a.objname); st != NFS4_OK) return st;
  if (auto st = decode_settable(a.createattrs, node.attrs); st != NFS4_OK) return st;
  if (read_only(c, c.current.node)) return NFS4ERR_ROFS;
  auto res = c.current.node.fs->create_node(c.identity(), c.current.node.inode, a.objname, node);
  if (!res.ok()) return to_nfs(res.status());
  r.ok.cinfo = to_cinfo(res->dir_change);
  r.ok.attrset = a.createattrs.mask;
  c.current_stateid.reset();
  return c.set_current({c.current.node.fs, c.current.node.fs_index, res->attrs.id});
}

nfsstat4 remove(Compound& c, ComponentArgs& a, ChangeInfoResult& r) {
  if (auto st = require_dir(c); st != NFS4_OK) return st;
  if (auto st = check_name(a.name); st != NFS4_OK) return st;
  if (read_only(c, c.current.node)) return NFS4ERR_ROFS;
  // §8.4.2.1: while clients reclaim after a restart, a name they may reclaim opens through
  // must not go away under them (the Linux server refuses the same way).
  if (c.svc.state.grace.active()) return NFS4ERR_GRACE;
  if (auto st = recall_conflicting_entry(c, c.current.node, a.name); st != NFS4_OK) return st;
  auto res = c.current.node.fs->remove(c.identity(), c.current.node.inode, a.name);
  if (!res.ok()) return to_nfs(res.status());
  r.ok.cinfo = to_cinfo(*res);
  return NFS4_OK;
}

nfsstat4 rename(Compound& c, RenameArgs& a, RenameResult& r) {
  if (!c.saved.set) return NFS4ERR_NOFILEHANDLE;
  if (auto st = require_dir_node(c.saved.node); st != NFS4_OK) return st;
  if (auto st = require_dir(c); st != NFS4_OK) return st;
  if (auto st = check_name(a.oldname); st != NFS4_OK) return st;
  if (auto st = check_name(a.newname); st != NFS4_OK) return st;
  if (c.saved.node.fs_index != c.current.node.fs_index) return NFS4ERR_XDEV;
  if (read_only(c, c.current.node)) return NFS4ERR_ROFS;
  if (c.svc.state.grace.active()) return NFS4ERR_GRACE;  // as for REMOVE
  // The file renamed, and one the new name replaces.
  if (auto st = recall_conflicting_entry(c, c.saved.node, a.oldname); st != NFS4_OK) return st;
  if (auto st = recall_conflicting_entry(c, c.current.node, a.newname); st != NFS4_OK) return st;
  auto res = c.current.node.fs->rename(c.identity(), c.saved.node.inode, a.oldname,
                                       c.current.node.inode, a.newname);
  // §18.26.3: a source and target that are not both directories or both non-directories
  // give NFS4ERR_EXIST (ISDIR is no RENAME error; both handles were checked to be
  // directories above, so the file model's ISDIR/NOTDIR can only mean that).
  if (!res.ok() && (res.status() == vfs::Status::kIsDir || res.status() == vfs::Status::kNotDir)) {
    return NFS4ERR_EXIST;
  }
  if (!res.ok()) return to_nfs(res.status());
  r.ok.source = to_cinfo(res->source);
  r.ok.target = to_cinfo(res->target);
  return NFS4_OK;
}

nfsstat4 link(Compound& c, ComponentArgs& a, ChangeInfoResult& r) {
  if (!c.saved.set) return NFS4ERR_NOFILEHANDLE;
  if (auto st = require_dir(c); st != NFS4_OK) return st;
  if (auto st = check_name(a.name); st != NFS4_OK) return st;
  if (c.saved.node.fs_index != c.current.node.fs_index) return NFS4ERR_XDEV;
  auto src = c.saved.node.fs->getattr(c.saved.node.inode);
  if (!src.ok()) return to_nfs(src.status());
  if (src->type == vfs::FileType::kDirectory) return NFS4ERR_ISDIR;
  if (read_only(c, c.current.node)) return NFS4ERR_ROFS;
  if (auto st = recall_conflicting(c, c.saved.key(), state::RecallReason::kNamespace);
      st != NFS4_OK) {
    return st;
  }
  auto res =
      c.current.node.fs->link(c.identity(), c.saved.node.inode, c.current.node.inode, a.name);
  if (!res.ok()) return to_nfs(res.status());
  r.ok.cinfo = to_cinfo(*res);
  return NFS4_OK;
}

nfsstat4 readlink(Compound& c, Void&, ReadlinkResult& r) {
  auto attrs = c.current.node.fs->getattr(c.current.node.inode);
  if (!attrs.ok()) return to_nfs(attrs.status());
  if (attrs->type != vfs::FileType::kSymlink) return NFS4ERR_INVAL;
  auto target = c.current.node.fs->readlink(c.current.node.inode);
  if (!target.ok()) return to_nfs(target.status());
  r.ok.link = std::move(*target);
  return NFS4_OK;
}

namespace {

constexpr size_t kReaddirFixed = 4 + 8 + 4 + 4;  // status, verifier, end of list, eof
constexpr size_t kMaxBatch = 1024;

size_t entry_size(const DirEntry4& e) {
  return 4 + 8 + 4 + xdr::padded(e.name.size()) + 4 + 4 * Bitmap::kWords + 4 + e.attrs.vals.size();
}

}  // namespace

nfsstat4 readdir(Compound& c, ReaddirArgs& a, ReaddirResult& r) {
  if (auto st = require_dir(c); st != NFS4_OK) return st;
  if (!(a.attr_request & write_only_attrs()).empty()) return NFS4ERR_INVAL;
  if (a.cookie == 1 || a.cookie == 2) return NFS4ERR_BAD_COOKIE;  // reserved (§18.23.3)
  // The cookie verifier is always zero. Cookies here never go stale (each names its entry for
  // the entry's life, is never reused in its directory, and a listing resumes after a removed
  // one), so the verifier has nothing to protect (§18.23.4). A non-zero one also costs the
  // Linux client a round trip: on the first fill of a directory's cache it adopts the new
  // verifier and throws away every page of the reply but the first, then asks again.
  const Verifier zero{};
  if (a.cookie != 0 && a.cookieverf != zero) return NFS4ERR_NOT_SAME;
  r.ok.cookieverf = zero;

  size_t limit = std::min<size_t>(a.maxcount, c.reply_budget());
  if (limit < kReaddirFixed + 16) return NFS4ERR_TOOSMALL;
  size_t used = kReaddirFixed;

  const vfs::Node dir = c.current.node;
  const auto who = c.identity();
  uint64_t cookie = a.cookie;
  bool full = false;
  while (!full) {
    auto listing = dir.fs->readdir(who, dir.inode, cookie, kMaxBatch);
    if (!listing.ok()) {
      return listing.status() == vfs::Status::kInval ? NFS4ERR_BAD_COOKIE
                                                     : to_nfs(listing.status());
    }
    for (auto& item : listing->entries) {
      DirEntry4 e;
      e.cookie = item.entry.cookie;
      e.name = std::move(item.entry.name);
      // A pseudo directory that is a mount point shows the share's root (§7.4).
      vfs::Node node = c.svc.ns.cross({dir.fs, dir.fs_index, item.entry.id});
      vfs::Attributes attrs = item.attrs;
      if (node.fs_index != dir.fs_index) {
        auto root_attrs = node.fs->getattr(node.inode);
        if (root_attrs.ok()) attrs = *root_attrs;
      }
      Fh fh;
      if (a.attr_request.test(FATTR4_FILEHANDLE)) {
        auto h = c.svc.ns.handle(node, attrs.generation).encode();
        fh.len = static_cast<uint32_t>(h.size());
        std::copy(h.begin(), h.end(), fh.data.begin());
      }
      AttrSource src;
      src.attrs = &attrs;
      src.fh = &fh;
      src.fs = node.fs.get();
      src.mounted_on_fileid = item.entry.id;
      src.settings = c.settings.get();
      if (nfsstat4 st = encode_attrs(a.attr_request, src, e.attrs); st != NFS4_OK) {
        // RFC 8881 §18.23.3: an entry whose attributes cannot be had fails the READDIR,
        // unless the client asked for rdattr_error, which then carries the error instead.
        if (!a.attr_request.test(FATTR4_RDATTR_ERROR)) return st;
        src.rdattr_error = st;
        encode_attrs(Bitmap{FATTR4_RDATTR_ERROR}, src, e.attrs);
      }
      size_t need = entry_size(e);
      if (used + need > limit) {
        full = true;
        break;
      }
      used += need;
      cookie = e.cookie;
      r.ok.entries.push_back(std::move(e));
    }
    if (!full && listing->eof) {
      r.ok.eof = true;
      break;
    }
    if (listing->entries.empty()) break;
  }
  if (r.ok.entries.empty() && !r.ok.eof) return NFS4ERR_TOOSMALL;
  return NFS4_OK;
}

}  // namespace dfs::nfs4::ops
