// Filehandle and name lookup operations (RFC 5661 §18.13-§18.14, §18.19-§18.23 (PUT*FH),
// §18.27-§18.28 (RESTOREFH/SAVEFH), §18.29 and §18.45 (SECINFO)).

#include "nfs4/errors.h"
#include "nfs4/ops/handlers.h"
#include "vfs/file_handle.h"

namespace dfs::nfs4::ops {

nfsstat4 check_name(const std::string& name) {
  if (name.empty()) return NFS4ERR_INVAL;
  if (name.size() > vfs::kMaxNameLength) return NFS4ERR_NAMETOOLONG;
  if (name == "." || name == "..") return NFS4ERR_BADNAME;
  for (char ch : name) {
    if (ch == '/' || ch == '\0') return NFS4ERR_BADNAME;
  }
  return NFS4_OK;
}

nfsstat4 require_dir(Compound& c) {
  return require_dir_node(c.current.node);
}

nfsstat4 require_dir_node(const vfs::Node& node) {
  auto attrs = node.fs->getattr(node.inode);
  if (!attrs.ok()) return to_nfs(attrs.status());
  // NOTDIR for any non-directory (§18.4.3 CREATE, §18.16.4 OPEN; SYMLINK is not an error of
  // REMOVE, RENAME or READDIR). LOOKUP alone answers SYMLINK for a symlink (§18.13.3).
  return attrs->type == vfs::FileType::kDirectory ? NFS4_OK : NFS4ERR_NOTDIR;
}

nfsstat4 require_regular(Compound& c) {
  auto attrs = c.current.node.fs->getattr(c.current.node.inode);
  if (!attrs.ok()) return to_nfs(attrs.status());
  return regular_file_status(attrs->type);
}

nfsstat4 regular_file_status(vfs::FileType t) {
  switch (t) {
    case vfs::FileType::kRegular:
      return NFS4_OK;
    case vfs::FileType::kDirectory:
      return NFS4ERR_ISDIR;
    case vfs::FileType::kSymlink:
      return NFS4ERR_SYMLINK;
    default:
      return NFS4ERR_WRONG_TYPE;
  }
}

bool read_only(const Compound& c, const vfs::Node& node) {
  if (node.fs->read_only()) return true;
  auto opts = c.svc.ns.share_options(node.fs_index);
  return opts && opts->read_only;
}

AttrSource current_attr_source(const Compound& c, const vfs::Attributes& attrs) {
  AttrSource src;
  src.attrs = &attrs;
  src.fh = &c.current.fh;
  src.fs = c.current.node.fs.get();
  src.mounted_on_fileid = c.svc.ns.mounted_on(c.current.node);
  src.settings = c.settings.get();
  return src;
}

namespace {

void forget_current_stateid(Compound& c) {
  c.current_stateid.reset();
}

}  // namespace

nfsstat4 putfh(Compound& c, PutFhArgs& a, StatusResult&) {
  auto h = vfs::FileHandle::decode(a.object.bytes());
  if (!h) return NFS4ERR_BADHANDLE;
  auto node = c.svc.ns.resolve(*h);
  if (!node.ok()) return NFS4ERR_STALE;
  if (auto st = c.check_share_access(*node); st != NFS4_OK) return st;
  forget_current_stateid(c);
  c.current.set = true;
  c.current.fh = a.object;
  c.current.node = *node;
  return NFS4_OK;
}

nfsstat4 putrootfh(Compound& c, Void&, StatusResult&) {
  forget_current_stateid(c);
  return c.set_current(c.svc.ns.root());
}

// The public filehandle is the root of the namespace (§18.20.3 allows that choice).
nfsstat4 putpubfh(Compound& c, Void& v, StatusResult& r) {
  return putrootfh(c, v, r);
}

nfsstat4 getfh(Compound& c, Void&, GetFhResult& r) {
  r.ok.object = c.current.fh;
  return NFS4_OK;
}

nfsstat4 savefh(Compound& c, Void&, StatusResult&) {
  c.saved = c.current;
  c.saved_stateid = c.current_stateid;
  return NFS4_OK;
}

nfsstat4 restorefh(Compound& c, Void&, StatusResult&) {
  if (!c.saved.set) return NFS4ERR_RESTOREFH;
  c.current = c.saved;
  c.current_stateid = c.saved_stateid;
  return NFS4_OK;
}

namespace {

// LOOKUP and LOOKUPP, unlike the other directory operations, list NFS4ERR_SYMLINK among their
// errors (§15.2): a symlink as the current filehandle is SYMLINK, any other non-directory
// NOTDIR.
nfsstat4 require_dir_or_symlink_error(Compound& c) {
  auto attrs = c.current.node.fs->getattr(c.current.node.inode);
  if (!attrs.ok()) return to_nfs(attrs.status());
  switch (attrs->type) {
    case vfs::FileType::kDirectory:
      return NFS4_OK;
    case vfs::FileType::kSymlink:
      return NFS4ERR_SYMLINK;
    default:
      return NFS4ERR_NOTDIR;
  }
}

}  // namespace

nfsstat4 lookup(Compound& c, ComponentArgs& a, StatusResult&) {
  if (auto st = require_dir_or_symlink_error(c); st != NFS4_OK) return st;
  if (auto st = check_name(a.name); st != NFS4_OK) return st;
  auto node = c.svc.ns.lookup(c.identity(), c.current.node, a.name);
  if (!node.ok()) return to_nfs(node.status());
  forget_current_stateid(c);
  return c.set_current(*node);
}

nfsstat4 lookupp(Compound& c, Void&, StatusResult&) {
  if (auto st = require_dir_or_symlink_error(c); st != NFS4_OK) return st;
  // The root of the namespace has no parent (§18.14.3).
  auto root = c.svc.ns.root();
  if (c.current.node.fs_index == root.fs_index && c.current.node.inode == root.inode) {
    return NFS4ERR_NOENT;
  }
  auto node = c.svc.ns.parent(c.current.node);
  if (!node.ok()) return to_nfs(node.status());
  forget_current_stateid(c);
  return c.set_current(*node);
}

namespace {

// AUTH_SYS and AUTH_NONE are what every share accepts (RPCSEC_GSS is not offered yet).
void default_flavors(SecInfoOk& ok) {
  SecInfo sys;
  sys.flavor = 1;
  SecInfo none;
  none.flavor = 0;
  ok.flavors = {sys, none};
}

}  // namespace

nfsstat4 secinfo(Compound& c, ComponentArgs& a, SecInfoResult& r) {
  if (auto st = require_dir(c); st != NFS4_OK) return st;
  if (auto st = check_name(a.name); st != NFS4_OK) return st;
  auto node = c.svc.ns.lookup(c.identity(), c.current.node, a.name);
  if (!node.ok()) return to_nfs(node.status());
  default_flavors(r.ok);
  // §2.6.3.1.1.8: SECINFO consumes the current filehandle.
  c.current = {};
  forget_current_stateid(c);
  return NFS4_OK;
}

nfsstat4 secinfo_no_name(Compound& c, SecInfoNoNameArgs& a, SecInfoResult& r) {
  if (a.style != SECINFO_STYLE4_CURRENT_FH && a.style != SECINFO_STYLE4_PARENT) {
    return NFS4ERR_INVAL;
  }
  if (a.style == SECINFO_STYLE4_PARENT) {
    if (auto st = require_dir(c); st != NFS4_OK) return st;
    auto root = c.svc.ns.root();
    if (c.current.node.fs_index == root.fs_index && c.current.node.inode == root.inode) {
      return NFS4ERR_NOENT;
    }
  }
  default_flavors(r.ok);
  c.current = {};
  forget_current_stateid(c);
  return NFS4_OK;
}

}  // namespace dfs::nfs4::ops
