// Filehandle, namespace and attribute operations over a real socket (RFC 5661 §18): each
// operation's success path and its main errors, the pseudo-root and the crossing into a
// share, READDIR cookies, SECINFO, and POSIX permission checks for AUTH_SYS callers.

#include <set>

#include "nfs4_test_util.h"

namespace dfs::testing {
namespace {

class FileOpsTest : public Nfs4Test {
 protected:
  // These tests check POSIX permissions with root's privileges among them (chown, root's
  // files, root against others'): client root must be root here.
  server::Config initial_config() const override { return root_not_squashed(); }
  // CREATE of a non-regular object in `dir`; the new object's handle, or the status.
  nfsstat4 make(const Fh& dir, const std::string& name, const CreateType& type, Fh* out = nullptr,
                const Fattr& attrs = {}) {
    CreateArgs ca;
    ca.objtype = type;
    ca.objname = name;
    ca.createattrs = attrs;
    auto r = c->call(c->builder().op(OP_PUTFH, PutFhArgs{dir}).op(OP_CREATE, ca).op(OP_GETFH));
    if (r.status != NFS4_OK) return r.status;
    r.next_status(OP_PUTFH);
    auto cr = r.next<CreateResult>(OP_CREATE);
    EXPECT_LT(cr.ok.cinfo.before, cr.ok.cinfo.after);
    if (out) *out = r.next<GetFhResult>(OP_GETFH).ok.object;
    return NFS4_OK;
  }
  Fh mkdir(const Fh& dir, const std::string& name, uint32_t mode = 0755) {
    Fh fh;
    auto st = make(dir, name, CreateType{NF4DIR, {}, {}}, &fh,
                   AttrBuilder().u32(FATTR4_MODE, mode).build());
    if (st != NFS4_OK) throw CompoundError("mkdir " + name + ": " + std::to_string(st));
    return fh;
  }
  // A regular file made by OPEN (and closed again), with `size` bytes of content.
  Fh touch(NfsClient& cl, const Fh& dir, const std::string& name, size_t size = 0) {
    auto o = cl.open_or_throw(dir, name, OPEN4_SHARE_ACCESS_BOTH);
    if (size) {
      std::vector<uint8_t> data(size, 'x');
      EXPECT_EQ(cl.write(o, 0, data), NFS4_OK);
    }
    EXPECT_EQ(cl.close(o), NFS4_OK);
    return o.fh;
  }
  Fh touch(const Fh& dir, const std::string& name, size_t size = 0) {
    return touch(*c, dir, name, size);
  }
  nfsstat4 lookup(NfsClient& cl, const Fh& dir, const std::string& name, Fh* out = nullptr) {
    auto r = cl.call(
        cl.builder().op(OP_PUTFH, PutFhArgs{dir}).op(OP_LOOKUP, ComponentArgs{name}).op(OP_GETFH));
    if (r.status != NFS4_OK) return r.status;
    r.next_status(OP_PUTFH);
    r.next_status(OP_LOOKUP);
    if (out) *out = r.next<GetFhResult>(OP_GETFH).ok.object;
    return NFS4_OK;
  }
  nfsstat4 lookup(const Fh& dir, const std::string& name, Fh* out = nullptr) {
    return lookup(*c, dir, name, out);
  }
  nfsstat4 setattr(const Fh& fh, const Fattr& attrs, const Stateid& sid = {},
                   Bitmap* attrsset = nullptr) {
    auto r =
        c->call(c->builder().op(OP_PUTFH, PutFhArgs{fh}).op(OP_SETATTR, SetattrArgs{sid, attrs}));
    if (r.count < 2) return r.status;
    r.next_status(OP_PUTFH);
    auto sr = r.next<SetattrResult>(OP_SETATTR);
    if (attrsset) *attrsset = sr.attrsset;
    return sr.status;
  }
  nfsstat4 rename(NfsClient& cl, const Fh& from, const std::string& oldname, const Fh& to,
                  const std::string& newname) {
    auto r = cl.call(cl.builder()
                         .op(OP_PUTFH, PutFhArgs{from})
                         .op(OP_SAVEFH)
                         .op(OP_PUTFH, PutFhArgs{to})
                         .op(OP_RENAME, RenameArgs{oldname, newname}));
    return r.status;
  }
  nfsstat4 rename(const Fh& from, const std::string& oldname, const Fh& to,
                  const std::string& newname) {
    return rename(*c, from, oldname, to, newname);
  }
  nfsstat4 link(const Fh& file, const Fh& dir, const std::string& name) {
    auto r = c->call(c->builder()
                         .op(OP_PUTFH, PutFhArgs{file})
                         .op(OP_SAVEFH)
                         .op(OP_PUTFH, PutFhArgs{dir})
                         .op(OP_LINK, ComponentArgs{name}));
    return r.status;
  }
  struct Listing {
    nfsstat4 status = NFS4_OK;
    ReaddirOk ok;
  };
  Listing readdir(const Fh& dir, uint64_t cookie, const Verifier& verf, uint32_t maxcount,
                  const Bitmap& attrs = {}) {
    ReaddirArgs ra;
    ra.cookie = cookie;
    ra.cookieverf = verf;
    ra.dircount = maxcount;
    ra.maxcount = maxcount;
    ra.attr_request = attrs;
    auto r = c->call(c->builder().op(OP_PUTFH, PutFhArgs{dir}).op(OP_READDIR, ra));
    Listing out;
    EXPECT_GE(r.count, 2u);
    r.next_status(OP_PUTFH);
    auto rd = r.next<ReaddirResult>(OP_READDIR);
    out.status = rd.status;
    out.ok = std::move(rd.ok);
    return out;
  }
  // Every name in `dir`, READDIR by READDIR with `maxcount`; fails on a repeated name.
  std::vector<std::string> list_all(const Fh& dir, uint32_t maxcount, size_t* calls = nullptr) {
    std::vector<std::string> names;
    uint64_t cookie = 0;
    Verifier verf{};
    size_t n = 0;
    while (true) {
      auto l = readdir(dir, cookie, verf, maxcount);
      EXPECT_EQ(l.status, NFS4_OK);
      if (l.status != NFS4_OK) break;
      ++n;
      for (auto& e : l.ok.entries) {
        EXPECT_NE(e.cookie, 0u);
        EXPECT_NE(e.cookie, 1u);
        EXPECT_NE(e.cookie, 2u);
        names.push_back(e.name);
        cookie = e.cookie;
      }
      verf = l.ok.cookieverf;
      if (l.ok.eof) break;
      EXPECT_FALSE(l.ok.entries.empty()) << "no progress without eof";
      if (l.ok.entries.empty() || n > 100000) break;
    }
    if (calls) *calls = n;
    return names;
  }
  AccessOk access(NfsClient& cl, const Fh& fh, uint32_t bits) {
    auto r = cl.call(cl.builder().op(OP_PUTFH, PutFhArgs{fh}).op(OP_ACCESS, AccessArgs{bits}));
    EXPECT_EQ(r.status, NFS4_OK);
    r.next_status(OP_PUTFH);
    return r.next<AccessResult>(OP_ACCESS).ok;
  }
};

constexpr uint32_t kAllAccess = ACCESS4_READ | ACCESS4_LOOKUP | ACCESS4_MODIFY | ACCESS4_EXTEND |
                                ACCESS4_DELETE | ACCESS4_EXECUTE;

// ---- PUTFH, PUTROOTFH, GETFH, SAVEFH, RESTOREFH ---------------------------------------------

TEST_F(FileOpsTest, PutFhOfMalformedHandleIsBadHandle) {
  Fh empty;
  Fh garbage;
  garbage.len = 24;
  garbage.data.fill(0xab);
  Fh short_one = exp;
  short_one.len = 5;
  Fh zero_inode = exp;
  std::fill(zero_inode.data.begin() + 8, zero_inode.data.begin() + 16, 0);
  for (const Fh* fh : {&empty, &garbage, &short_one, &zero_inode}) {
    auto r = c->call(c->builder().op(OP_PUTFH, PutFhArgs{*fh}).op(OP_GETFH));
    EXPECT_EQ(r.status, NFS4ERR_BADHANDLE);
    ASSERT_EQ(r.count, 2u);  // SEQUENCE and PUTFH
    EXPECT_EQ(r.next_status(OP_PUTFH), NFS4ERR_BADHANDLE);
  }
}

TEST_F(FileOpsTest, PutFhOfRemovedObjectIsStale) {
  Fh d = mkdir(exp, "gone");
  Fh f = touch(exp, "gone-file");
  ASSERT_EQ(c->remove(exp, "gone"), NFS4_OK);
  ASSERT_EQ(c->remove(exp, "gone-file"), NFS4_OK);
  for (const Fh* fh : {&d, &f}) {
    auto r = c->call(
        c->builder().op(OP_PUTFH, PutFhArgs{*fh}).op(OP_GETATTR, GetattrArgs{{FATTR4_TYPE}}));
    EXPECT_EQ(r.status, NFS4ERR_STALE);
  }
}

TEST_F(FileOpsTest, PutRootFhAndGetFh) {
  auto r =
      c->call(c->builder().op(OP_PUTROOTFH).op(OP_GETFH).op(OP_PUTFH, PutFhArgs{exp}).op(OP_GETFH));
  ASSERT_EQ(r.status, NFS4_OK);
  r.next_status(OP_PUTROOTFH);
  Fh root = r.next<GetFhResult>(OP_GETFH).ok.object;
  r.next_status(OP_PUTFH);
  Fh again = r.next<GetFhResult>(OP_GETFH).ok.object;
  EXPECT_EQ(again, exp);  // PUTFH sets exactly the handle given
  EXPECT_FALSE(root == exp);
  EXPECT_EQ(c->root_fh(), root);  // stable across requests
}

TEST_F(FileOpsTest, GetFhWithoutCurrentFhIsNoFileHandle) {
  auto r = c->call(c->builder().op(OP_GETFH));
  EXPECT_EQ(r.status, NFS4ERR_NOFILEHANDLE);
  EXPECT_EQ(r.next_status(OP_GETFH), NFS4ERR_NOFILEHANDLE);
  // Other operations that need one fail the same way.
  EXPECT_EQ(c->call(c->builder().op(OP_GETATTR, GetattrArgs{{FATTR4_TYPE}})).status,
            NFS4ERR_NOFILEHANDLE);
  EXPECT_EQ(c->call(c->builder().op(OP_LOOKUP, ComponentArgs{"export"})).status,
            NFS4ERR_NOFILEHANDLE);
  EXPECT_EQ(c->call(c->builder().op(OP_SAVEFH)).status, NFS4ERR_NOFILEHANDLE);
}

TEST_F(FileOpsTest, SaveFhRestoreFh) {
  Fh d = mkdir(exp, "d");
  auto r = c->call(c->builder()
                       .op(OP_PUTFH, PutFhArgs{exp})
                       .op(OP_SAVEFH)
                       .op(OP_PUTFH, PutFhArgs{d})
                       .op(OP_GETFH)
                       .op(OP_RESTOREFH)
                       .op(OP_GETFH));
  ASSERT_EQ(r.status, NFS4_OK);
  r.next_status(OP_PUTFH);
  r.next_status(OP_SAVEFH);
  r.next_status(OP_PUTFH);
  EXPECT_EQ(r.next<GetFhResult>(OP_GETFH).ok.object, d);
  r.next_status(OP_RESTOREFH);
  EXPECT_EQ(r.next<GetFhResult>(OP_GETFH).ok.object, exp);

  auto none = c->call(c->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_RESTOREFH));
  EXPECT_EQ(none.status, NFS4ERR_RESTOREFH);
  none.next_status(OP_PUTFH);
  EXPECT_EQ(none.next_status(OP_RESTOREFH), NFS4ERR_RESTOREFH);
}

TEST_F(FileOpsTest, DirectoryOperationsOnASymlinkAreNotDir) {
  Fh d = mkdir(exp, "d");
  Fh ln;
  ASSERT_EQ(make(exp, "ln", CreateType{NF4LNK, "d", {}}, &ln), NFS4_OK);
  // LOOKUP through a symlink is SYMLINK (§18.13.3), and so is LOOKUPP from one (§15.2 lists
  // SYMLINK for LOOKUPP; pynfs LKPP1a) ...
  EXPECT_EQ(lookup(ln, "x"), NFS4ERR_SYMLINK);
  EXPECT_EQ(c->call(c->builder().op(OP_PUTFH, PutFhArgs{ln}).op(OP_LOOKUPP)).status,
            NFS4ERR_SYMLINK);
  // ... but CREATE (§18.4.3) and OPEN (§18.16.4) say NOTDIR for any non-directory, and
  // SYMLINK is not among the errors of REMOVE, RENAME or READDIR (§15.2).
  EXPECT_EQ(make(ln, "x", CreateType{NF4DIR, {}, {}}), NFS4ERR_NOTDIR);
  EXPECT_EQ(do_open(*c, ln, open_args(*c, "x", OPEN4_SHARE_ACCESS_READ, 0, true)).status,
            NFS4ERR_NOTDIR);
  EXPECT_EQ(c->remove(ln, "x"), NFS4ERR_NOTDIR);
  EXPECT_EQ(rename(ln, "x", d, "y"), NFS4ERR_NOTDIR);
  EXPECT_EQ(rename(d, "x", ln, "y"), NFS4ERR_NOTDIR);
  EXPECT_EQ(readdir(ln, 0, {}, 4096).status, NFS4ERR_NOTDIR);
}

// ---- LOOKUP, LOOKUPP -----------------------------------------------------------------------

TEST_F(FileOpsTest, LookupErrors) {
  Fh f = touch(exp, "file");
  EXPECT_EQ(lookup(exp, "missing"), NFS4ERR_NOENT);
  EXPECT_EQ(lookup(f, "x"), NFS4ERR_NOTDIR);
  EXPECT_EQ(lookup(exp, ""), NFS4ERR_INVAL);
  EXPECT_EQ(lookup(exp, "."), NFS4ERR_BADNAME);
  EXPECT_EQ(lookup(exp, ".."), NFS4ERR_BADNAME);
  EXPECT_EQ(lookup(exp, std::string(256, 'n')), NFS4ERR_NAMETOOLONG);
  EXPECT_EQ(lookup(exp, std::string(255, 'n')), NFS4ERR_NOENT);  // the longest legal name
  Fh got;
  ASSERT_EQ(lookup(exp, "file", &got), NFS4_OK);
  EXPECT_EQ(got, f);
  // A symlink is not searched through.
  Fh ln;
  ASSERT_EQ(make(exp, "ln", CreateType{NF4LNK, "file", {}}, &ln), NFS4_OK);
  EXPECT_EQ(lookup(ln, "x"), NFS4ERR_SYMLINK);
}

TEST_F(FileOpsTest, LookupFromPseudoRootIntoExportChangesFsid) {
  Fh root = c->root_fh();
  Bitmap want{FATTR4_FSID, FATTR4_TYPE, FATTR4_FILEID, FATTR4_MOUNTED_ON_FILEID};
  Attrs ra = get_attrs(*c, root, want);
  Attrs ea = get_attrs(*c, exp, want);
  EXPECT_EQ(ra.u32(FATTR4_TYPE), NF4DIR);
  EXPECT_EQ(ea.u32(FATTR4_TYPE), NF4DIR);
  EXPECT_FALSE(ra.fsid() == ea.fsid()) << "crossing into the share must change fsid";
  Fh sub = mkdir(exp, "sub");
  EXPECT_TRUE(get_attrs(*c, sub, want).fsid() == ea.fsid());
  // The share root's mounted_on_fileid is the pseudo directory it is mounted on: what the
  // pseudo-root's READDIR reports for "export".
  auto l = readdir(root, 0, {}, 4096, {FATTR4_MOUNTED_ON_FILEID, FATTR4_FSID});
  ASSERT_EQ(l.status, NFS4_OK);
  bool found = false;
  for (auto& e : l.ok.entries) {
    if (e.name != "export") continue;
    found = true;
    Attrs a(e.attrs);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a.u64(FATTR4_MOUNTED_ON_FILEID), ea.u64(FATTR4_MOUNTED_ON_FILEID));
    EXPECT_TRUE(a.fsid() == ea.fsid());  // the entry shows the share's root
  }
  EXPECT_TRUE(found);
}

TEST_F(FileOpsTest, LookupP) {
  Fh root = c->root_fh();
  auto at_root = c->call(c->builder().op(OP_PUTROOTFH).op(OP_LOOKUPP));
  EXPECT_EQ(at_root.status, NFS4ERR_NOENT);
  // From the share's root back to the pseudo-root.
  auto up = c->call(c->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_LOOKUPP).op(OP_GETFH));
  ASSERT_EQ(up.status, NFS4_OK);
  up.next_status(OP_PUTFH);
  up.next_status(OP_LOOKUPP);
  EXPECT_EQ(up.next<GetFhResult>(OP_GETFH).ok.object, root);
  // From a subdirectory to its parent.
  Fh a = mkdir(exp, "a");
  Fh b = mkdir(a, "b");
  auto r = c->call(c->builder().op(OP_PUTFH, PutFhArgs{b}).op(OP_LOOKUPP).op(OP_GETFH));
  ASSERT_EQ(r.status, NFS4_OK);
  r.next_status(OP_PUTFH);
  r.next_status(OP_LOOKUPP);
  EXPECT_EQ(r.next<GetFhResult>(OP_GETFH).ok.object, a);
  // LOOKUPP of a file is NOTDIR.
  Fh f = touch(a, "f");
  EXPECT_EQ(c->call(c->builder().op(OP_PUTFH, PutFhArgs{f}).op(OP_LOOKUPP)).status, NFS4ERR_NOTDIR);
}

// ---- GETATTR -------------------------------------------------------------------------------

TEST_F(FileOpsTest, GetattrReportsRequiredAndCommonAttributes) {
  Fh f = touch(exp, "f", 1234);
  Bitmap want{FATTR4_SUPPORTED_ATTRS,
              FATTR4_TYPE,
              FATTR4_FH_EXPIRE_TYPE,
              FATTR4_CHANGE,
              FATTR4_SIZE,
              FATTR4_FSID,
              FATTR4_LEASE_TIME,
              FATTR4_FILEHANDLE,
              FATTR4_FILEID,
              FATTR4_MODE,
              FATTR4_NUMLINKS,
              FATTR4_OWNER,
              FATTR4_OWNER_GROUP,
              FATTR4_TIME_MODIFY,
              FATTR4_MOUNTED_ON_FILEID};
  Attrs a = get_attrs(*c, f, want);
  // §5.6: the REQUIRED attributes are supported.
  Bitmap sup = a.bitmap(FATTR4_SUPPORTED_ATTRS);
  for (uint32_t bit : {FATTR4_SUPPORTED_ATTRS, FATTR4_TYPE, FATTR4_FH_EXPIRE_TYPE, FATTR4_CHANGE,
                       FATTR4_SIZE, FATTR4_LINK_SUPPORT, FATTR4_SYMLINK_SUPPORT, FATTR4_NAMED_ATTR,
                       FATTR4_FSID, FATTR4_UNIQUE_HANDLES, FATTR4_LEASE_TIME, FATTR4_RDATTR_ERROR,
                       FATTR4_FILEHANDLE, FATTR4_SUPPATTR_EXCLCREAT}) {
    EXPECT_TRUE(sup.test(bit)) << "attribute " << bit;
  }
  want.for_each([&](uint32_t bit) { EXPECT_TRUE(a.has(bit)) << "attribute " << bit; });
  EXPECT_EQ(a.u32(FATTR4_TYPE), NF4REG);
  EXPECT_EQ(a.u64(FATTR4_SIZE), 1234u);
  EXPECT_EQ(a.u32(FATTR4_MODE), 0644u);
  EXPECT_EQ(a.u32(FATTR4_NUMLINKS), 1u);
  EXPECT_EQ(a.str(FATTR4_OWNER), "0");  // numeric owner strings
  EXPECT_EQ(a.str(FATTR4_OWNER_GROUP), "0");
  EXPECT_EQ(a.u32(FATTR4_LEASE_TIME), 90u);
  EXPECT_EQ(a.fh(), f);
  EXPECT_NE(a.u64(FATTR4_FILEID), 0u);
  EXPECT_EQ(a.u64(FATTR4_MOUNTED_ON_FILEID), a.u64(FATTR4_FILEID));  // not a mount point
  EXPECT_TRUE(a.fsid() == get_attrs(*c, exp, {FATTR4_FSID}).fsid());

  // Two objects have different file ids; a directory reports its links.
  Fh d = mkdir(exp, "d");
  Attrs da = get_attrs(*c, d, {FATTR4_TYPE, FATTR4_FILEID, FATTR4_NUMLINKS});
  EXPECT_EQ(da.u32(FATTR4_TYPE), NF4DIR);
  EXPECT_NE(da.u64(FATTR4_FILEID), a.u64(FATTR4_FILEID));
  EXPECT_EQ(da.u32(FATTR4_NUMLINKS), 2u);

  // Unsupported attributes are silently left out (§18.7.3).
  Attrs partial = get_attrs(*c, f, {FATTR4_TYPE, FATTR4_ACL, 100});
  EXPECT_TRUE(partial.has(FATTR4_TYPE));
  EXPECT_FALSE(partial.has(FATTR4_ACL));
}

TEST_F(FileOpsTest, GetattrOfWriteOnlyAttributeIsInval) {
  for (uint32_t bit : {FATTR4_TIME_MODIFY_SET, FATTR4_TIME_ACCESS_SET}) {
    auto r = c->call(
        c->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_GETATTR, GetattrArgs{{FATTR4_TYPE, bit}}));
    EXPECT_EQ(r.status, NFS4ERR_INVAL);
  }
}

TEST_F(FileOpsTest, GetattrOwnerIsNumericForOtherUsers) {
  // A world-writable directory, so uid 1000 can create in it.
  Fh pub = mkdir(exp, "pub", 0777);
  auto user = client(1000, 100);
  Fh f = touch(*user, pub, "mine");
  Attrs a = get_attrs(*user, f, {FATTR4_OWNER, FATTR4_OWNER_GROUP});
  EXPECT_EQ(a.str(FATTR4_OWNER), "1000");
  EXPECT_EQ(a.str(FATTR4_OWNER_GROUP), "100");
}

// ---- SETATTR -------------------------------------------------------------------------------

TEST_F(FileOpsTest, SetattrModeAndOwner) {
  Fh f = touch(exp, "f");
  Bitmap set;
  ASSERT_EQ(setattr(f, AttrBuilder().u32(FATTR4_MODE, 0600).build(), {}, &set), NFS4_OK);
  EXPECT_TRUE(set == Bitmap{FATTR4_MODE});
  EXPECT_EQ(get_attrs(*c, f, {FATTR4_MODE}).u32(FATTR4_MODE), 0600u);
  ASSERT_EQ(
      setattr(f, AttrBuilder().str(FATTR4_OWNER, "1234").str(FATTR4_OWNER_GROUP, "567").build()),
      NFS4_OK);
  Attrs a = get_attrs(*c, f, {FATTR4_OWNER, FATTR4_OWNER_GROUP});
  EXPECT_EQ(a.str(FATTR4_OWNER), "1234");
  EXPECT_EQ(a.str(FATTR4_OWNER_GROUP), "567");
  // "uid@domain" carries the number too.
  ASSERT_EQ(setattr(f, AttrBuilder().str(FATTR4_OWNER, "42@example.com").build()), NFS4_OK);
  EXPECT_EQ(get_attrs(*c, f, {FATTR4_OWNER}).str(FATTR4_OWNER), "42");
}

TEST_F(FileOpsTest, SetattrSizeThroughOpenStateid) {
  auto o = c->open_or_throw(exp, "f", OPEN4_SHARE_ACCESS_BOTH);
  std::vector<uint8_t> data(100, 'a');
  ASSERT_EQ(c->write(o, 0, data), NFS4_OK);
  ASSERT_EQ(setattr(o.fh, AttrBuilder().u64(FATTR4_SIZE, 10).build(), o.stateid), NFS4_OK);
  EXPECT_EQ(get_attrs(*c, o.fh, {FATTR4_SIZE}).u64(FATTR4_SIZE), 10u);
  auto rd = do_read(*c, o.fh, o.stateid, 0, 1000);
  ASSERT_EQ(rd.status, NFS4_OK);
  EXPECT_EQ(rd.data.size(), 10u);
  EXPECT_TRUE(rd.eof);
  // Growing it reads back zeros past the old end.
  ASSERT_EQ(setattr(o.fh, AttrBuilder().u64(FATTR4_SIZE, 50).build(), o.stateid), NFS4_OK);
  rd = do_read(*c, o.fh, o.stateid, 0, 1000);
  ASSERT_EQ(rd.data.size(), 50u);
  EXPECT_EQ(rd.data[9], 'a');
  EXPECT_EQ(rd.data[10], 0);
  EXPECT_EQ(rd.data[49], 0);
  // A read-only open cannot change the size (it is a write: §18.30.3).
  auto ro =
      do_open(*c, exp, open_args(*c, "f", OPEN4_SHARE_ACCESS_READ, 0, false, UNCHECKED4, "ro"));
  ASSERT_EQ(ro.status, NFS4_OK);
  EXPECT_EQ(setattr(o.fh, AttrBuilder().u64(FATTR4_SIZE, 0).build(), ro.ok.stateid),
            NFS4ERR_OPENMODE);
  EXPECT_EQ(get_attrs(*c, o.fh, {FATTR4_SIZE}).u64(FATTR4_SIZE), 50u);
}

TEST_F(FileOpsTest, SetattrErrors) {
  Fh d = mkdir(exp, "d");
  Fh f = touch(exp, "f");
  EXPECT_EQ(setattr(d, AttrBuilder().u64(FATTR4_SIZE, 0).build()), NFS4ERR_ISDIR);
  // An attribute the server does not support (acl).
  EXPECT_EQ(setattr(f, AttrBuilder().u32(FATTR4_ACL, 0).build()), NFS4ERR_ATTRNOTSUPP);
  // Read-only attributes.
  EXPECT_EQ(setattr(f, AttrBuilder().u64(FATTR4_FILEID, 99).build()), NFS4ERR_INVAL);
  EXPECT_EQ(setattr(f, AttrBuilder().u32(FATTR4_TYPE, NF4DIR).build()), NFS4ERR_INVAL);
  // An owner the server cannot map.
  EXPECT_EQ(setattr(f, AttrBuilder().str(FATTR4_OWNER, "no-such-user-xyz").build()),
            NFS4ERR_BADOWNER);
  EXPECT_EQ(setattr(f, AttrBuilder().str(FATTR4_OWNER_GROUP, "").build()), NFS4ERR_BADOWNER);
  // Nothing of the refused requests was applied.
  Attrs a = get_attrs(*c, f, {FATTR4_OWNER, FATTR4_TYPE, FATTR4_MODE});
  EXPECT_EQ(a.str(FATTR4_OWNER), "0");
  EXPECT_EQ(a.u32(FATTR4_TYPE), NF4REG);
  // A mode with bits beyond 07777 is invalid.
  EXPECT_EQ(setattr(f, AttrBuilder().u32(FATTR4_MODE, 010644).build()), NFS4ERR_INVAL);
}

TEST_F(FileOpsTest, SetattrByNonOwnerIsPerm) {
  Fh f = touch(exp, "rootfile");
  auto user = client(1000, 1000);
  auto r = user->call(
      user->builder()
          .op(OP_PUTFH, PutFhArgs{f})
          .op(OP_SETATTR, SetattrArgs{{}, AttrBuilder().u32(FATTR4_MODE, 0777).build()}));
  EXPECT_EQ(r.status, NFS4ERR_PERM);
  EXPECT_EQ(get_attrs(*c, f, {FATTR4_MODE}).u32(FATTR4_MODE), 0644u);
}

// ---- VERIFY, NVERIFY -----------------------------------------------------------------------

TEST_F(FileOpsTest, VerifyAndNverify) {
  Fh f = touch(exp, "f", 7);
  Fattr same = AttrBuilder().u32(FATTR4_MODE, 0644).u64(FATTR4_SIZE, 7).build();
  Fattr differ = AttrBuilder().u32(FATTR4_MODE, 0600).u64(FATTR4_SIZE, 7).build();
  auto run = [&](uint32_t op, const Fattr& attrs) {
    auto r =
        c->call(c->builder().op(OP_PUTFH, PutFhArgs{f}).op(op, VerifyArgs{attrs}).op(OP_GETFH));
    return r.status;
  };
  EXPECT_EQ(run(OP_VERIFY, same), NFS4_OK);
  EXPECT_EQ(run(OP_VERIFY, differ), NFS4ERR_NOT_SAME);
  EXPECT_EQ(run(OP_NVERIFY, same), NFS4ERR_SAME);
  EXPECT_EQ(run(OP_NVERIFY, differ), NFS4_OK);
  // Write-only attributes cannot be verified.
  Fattr wo = AttrBuilder().u32(FATTR4_TIME_MODIFY_SET, SET_TO_SERVER_TIME4).build();
  EXPECT_EQ(run(OP_VERIFY, wo), NFS4ERR_INVAL);
}

// ---- ACCESS --------------------------------------------------------------------------------

TEST_F(FileOpsTest, AccessAsRootAndAsUnprivilegedUser) {
  Fh priv = mkdir(exp, "private", 0700);
  Fh f = touch(exp, "f");
  auto root_dir = access(*c, priv, kAllAccess);
  const uint32_t dir_bits =
      ACCESS4_READ | ACCESS4_LOOKUP | ACCESS4_MODIFY | ACCESS4_EXTEND | ACCESS4_DELETE;
  EXPECT_EQ(root_dir.supported & dir_bits, dir_bits);
  EXPECT_EQ(root_dir.access & dir_bits, dir_bits);

  auto user = client(1000, 1000);
  auto u_priv = access(*user, priv, kAllAccess);
  EXPECT_EQ(u_priv.supported & dir_bits, dir_bits);
  EXPECT_EQ(u_priv.access, 0u) << "0700 root directory grants uid 1000 nothing";
  // The export root (0755, root): read and search, no changes.
  auto u_exp = access(*user, exp, kAllAccess);
  EXPECT_EQ(u_exp.access & (ACCESS4_READ | ACCESS4_LOOKUP), ACCESS4_READ | ACCESS4_LOOKUP);
  EXPECT_EQ(u_exp.access & (ACCESS4_MODIFY | ACCESS4_EXTEND | ACCESS4_DELETE), 0u);
  // A 0644 file: the owner may write, others only read; nobody executes.
  auto r_file = access(*c, f, ACCESS4_READ | ACCESS4_MODIFY | ACCESS4_EXECUTE);
  EXPECT_EQ(r_file.access & (ACCESS4_READ | ACCESS4_MODIFY), ACCESS4_READ | ACCESS4_MODIFY);
  EXPECT_EQ(r_file.access & ACCESS4_EXECUTE, 0u);
  auto u_file = access(*user, f, ACCESS4_READ | ACCESS4_MODIFY | ACCESS4_EXTEND);
  EXPECT_EQ(u_file.access, static_cast<uint32_t>(ACCESS4_READ));
  // And the denial holds for real operations.
  EXPECT_EQ(lookup(*user, priv, "x"), NFS4ERR_ACCESS);
  // §18.1.3: supported and access never hold more than was asked, access never more than
  // supported; bits meaningless for the object or undefined are not "supported".
  auto only_read = access(*c, f, ACCESS4_READ);
  EXPECT_EQ(only_read.supported, static_cast<uint32_t>(ACCESS4_READ));
  EXPECT_EQ(only_read.access, static_cast<uint32_t>(ACCESS4_READ));
  auto odd = access(*c, exp, ACCESS4_LOOKUP | 0x100 | 0x80000000u);
  EXPECT_EQ(odd.supported & ~static_cast<uint32_t>(ACCESS4_LOOKUP), 0u);
  EXPECT_EQ(odd.access & ~odd.supported, 0u);
  EXPECT_EQ(odd.access, static_cast<uint32_t>(ACCESS4_LOOKUP));
  for (const auto* res : {&root_dir, &u_priv, &u_exp, &r_file, &u_file}) {
    EXPECT_EQ(res->access & ~res->supported, 0u);
  }
}

// ---- CREATE --------------------------------------------------------------------------------

TEST_F(FileOpsTest, CreateEveryNonRegularType) {
  Fh d, l, fifo, sock, chr, blk;
  ASSERT_EQ(make(exp, "dir", CreateType{NF4DIR, {}, {}}, &d), NFS4_OK);
  ASSERT_EQ(make(exp, "link", CreateType{NF4LNK, "some/target", {}}, &l), NFS4_OK);
  ASSERT_EQ(make(exp, "fifo", CreateType{NF4FIFO, {}, {}}, &fifo), NFS4_OK);
  ASSERT_EQ(make(exp, "sock", CreateType{NF4SOCK, {}, {}}, &sock), NFS4_OK);
  ASSERT_EQ(make(exp, "chr", CreateType{NF4CHR, {}, {4, 64}}, &chr), NFS4_OK);
  ASSERT_EQ(make(exp, "blk", CreateType{NF4BLK, {}, {8, 1}}, &blk), NFS4_OK);
  Bitmap want{FATTR4_TYPE, FATTR4_RAWDEV, FATTR4_SIZE};
  EXPECT_EQ(get_attrs(*c, d, want).u32(FATTR4_TYPE), NF4DIR);
  Attrs la = get_attrs(*c, l, want);
  EXPECT_EQ(la.u32(FATTR4_TYPE), NF4LNK);
  EXPECT_EQ(la.u64(FATTR4_SIZE), std::string("some/target").size());
  EXPECT_EQ(get_attrs(*c, fifo, want).u32(FATTR4_TYPE), NF4FIFO);
  EXPECT_EQ(get_attrs(*c, sock, want).u32(FATTR4_TYPE), NF4SOCK);
  Attrs ca = get_attrs(*c, chr, want);
  EXPECT_EQ(ca.u32(FATTR4_TYPE), NF4CHR);
  EXPECT_EQ(ca.rawdev().major, 4u);
  EXPECT_EQ(ca.rawdev().minor, 64u);
  Attrs ba = get_attrs(*c, blk, want);
  EXPECT_EQ(ba.u32(FATTR4_TYPE), NF4BLK);
  EXPECT_EQ(ba.rawdev().major, 8u);
  EXPECT_EQ(ba.rawdev().minor, 1u);
  // READLINK gives the target back.
  auto r = c->call(c->builder().op(OP_PUTFH, PutFhArgs{l}).op(OP_READLINK));
  ASSERT_EQ(r.status, NFS4_OK);
  r.next_status(OP_PUTFH);
  EXPECT_EQ(r.next<ReadlinkResult>(OP_READLINK).ok.link, "some/target");
  // The created directory has the requested mode.
  Fh m;
  ASSERT_EQ(make(exp, "moded", CreateType{NF4DIR, {}, {}}, &m,
                 AttrBuilder().u32(FATTR4_MODE, 0711).build()),
            NFS4_OK);
  EXPECT_EQ(get_attrs(*c, m, {FATTR4_MODE}).u32(FATTR4_MODE), 0711u);
}

TEST_F(FileOpsTest, CreateErrors) {
  // Regular files are made by OPEN (§18.4.3).
  EXPECT_EQ(make(exp, "reg", CreateType{NF4REG, {}, {}}), NFS4ERR_BADTYPE);
  EXPECT_EQ(make(exp, "attrdir", CreateType{NF4ATTRDIR, {}, {}}), NFS4ERR_BADTYPE);
  EXPECT_EQ(lookup(exp, "reg"), NFS4ERR_NOENT);
  ASSERT_EQ(make(exp, "x", CreateType{NF4DIR, {}, {}}), NFS4_OK);
  EXPECT_EQ(make(exp, "x", CreateType{NF4DIR, {}, {}}), NFS4ERR_EXIST);
  EXPECT_EQ(make(exp, "x", CreateType{NF4FIFO, {}, {}}), NFS4ERR_EXIST);
  EXPECT_EQ(make(exp, "", CreateType{NF4DIR, {}, {}}), NFS4ERR_INVAL);
  EXPECT_EQ(make(exp, "..", CreateType{NF4DIR, {}, {}}), NFS4ERR_BADNAME);
  EXPECT_EQ(make(exp, std::string(256, 'z'), CreateType{NF4DIR, {}, {}}), NFS4ERR_NAMETOOLONG);
  Fh f = touch(exp, "file");
  EXPECT_EQ(make(f, "sub", CreateType{NF4DIR, {}, {}}), NFS4ERR_NOTDIR);
}

// ---- REMOVE --------------------------------------------------------------------------------

TEST_F(FileOpsTest, Remove) {
  Fh d = mkdir(exp, "d");
  touch(d, "inner");
  touch(exp, "f");
  EXPECT_EQ(c->remove(exp, "d"), NFS4ERR_NOTEMPTY);
  EXPECT_EQ(c->remove(exp, "missing"), NFS4ERR_NOENT);
  auto r = c->call(c->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_REMOVE, ComponentArgs{"f"}));
  ASSERT_EQ(r.status, NFS4_OK);
  r.next_status(OP_PUTFH);
  auto cinfo = r.next<ChangeInfoResult>(OP_REMOVE).ok.cinfo;
  EXPECT_LT(cinfo.before, cinfo.after);
  EXPECT_EQ(lookup(exp, "f"), NFS4ERR_NOENT);
  EXPECT_EQ(c->remove(d, "inner"), NFS4_OK);
  EXPECT_EQ(c->remove(exp, "d"), NFS4_OK);
  EXPECT_EQ(lookup(exp, "d"), NFS4ERR_NOENT);
  EXPECT_EQ(get_attrs(*c, exp, {FATTR4_NUMLINKS}).u32(FATTR4_NUMLINKS), 2u);
}

// ---- RENAME --------------------------------------------------------------------------------

TEST_F(FileOpsTest, RenameAcrossDirectoriesAndOntoExistingFile) {
  Fh a = mkdir(exp, "a");
  Fh b = mkdir(exp, "b");
  Fh f = touch(a, "f", 3);
  Fh g = touch(b, "g", 5);
  ASSERT_EQ(rename(a, "f", b, "moved"), NFS4_OK);
  EXPECT_EQ(lookup(a, "f"), NFS4ERR_NOENT);
  Fh moved;
  ASSERT_EQ(lookup(b, "moved", &moved), NFS4_OK);
  EXPECT_EQ(get_attrs(*c, moved, {FATTR4_FILEID}).u64(FATTR4_FILEID),
            get_attrs(*c, f, {FATTR4_FILEID}).u64(FATTR4_FILEID));
  // Onto an existing file: the target is replaced.
  auto r = c->call(c->builder()
                       .op(OP_PUTFH, PutFhArgs{b})
                       .op(OP_SAVEFH)
                       .op(OP_PUTFH, PutFhArgs{b})
                       .op(OP_RENAME, RenameArgs{"moved", "g"})
                       .op(OP_GETFH));
  ASSERT_EQ(r.status, NFS4_OK);
  for (int i = 0; i < 3; ++i)
    r.next_status(i == 1 ? OP_SAVEFH : OP_PUTFH);
  auto rr = r.next<RenameResult>(OP_RENAME);
  EXPECT_LT(rr.ok.source.before, rr.ok.source.after);
  EXPECT_EQ(r.next<GetFhResult>(OP_GETFH).ok.object, b);  // current fh stays the target dir
  Fh now_g;
  ASSERT_EQ(lookup(b, "g", &now_g), NFS4_OK);
  EXPECT_EQ(get_attrs(*c, now_g, {FATTR4_SIZE}).u64(FATTR4_SIZE), 3u);
  EXPECT_EQ(lookup(b, "moved"), NFS4ERR_NOENT);
  auto stale =
      c->call(c->builder().op(OP_PUTFH, PutFhArgs{g}).op(OP_GETATTR, GetattrArgs{{FATTR4_SIZE}}));
  EXPECT_EQ(stale.status, NFS4ERR_STALE);
  // A directory moves too, and the link counts follow.
  Fh sub = mkdir(a, "sub");
  ASSERT_EQ(rename(a, "sub", b, "sub"), NFS4_OK);
  EXPECT_EQ(get_attrs(*c, a, {FATTR4_NUMLINKS}).u32(FATTR4_NUMLINKS), 2u);
  EXPECT_EQ(get_attrs(*c, b, {FATTR4_NUMLINKS}).u32(FATTR4_NUMLINKS), 3u);
  auto up = c->call(c->builder().op(OP_PUTFH, PutFhArgs{sub}).op(OP_LOOKUPP).op(OP_GETFH));
  up.next_status(OP_PUTFH);
  up.next_status(OP_LOOKUPP);
  EXPECT_EQ(up.next<GetFhResult>(OP_GETFH).ok.object, b);
}

TEST_F(FileOpsTest, RenameErrors) {
  Fh a = mkdir(exp, "a");
  Fh inner = mkdir(a, "inner");
  touch(exp, "file");
  Fh full = mkdir(exp, "full");
  touch(full, "x");
  mkdir(exp, "empty");
  // A directory into its own subtree.
  EXPECT_EQ(rename(exp, "a", inner, "a2"), NFS4ERR_INVAL);
  EXPECT_EQ(rename(exp, "a", a, "self"), NFS4ERR_INVAL);
  // Incompatible source and target: NFS4ERR_EXIST (§18.26.3).
  EXPECT_EQ(rename(exp, "file", exp, "empty"), NFS4ERR_EXIST);
  EXPECT_EQ(rename(exp, "empty", exp, "file"), NFS4ERR_EXIST);
  // A non-empty target directory: EXIST per §18.26.3 (NOTEMPTY is also in its error list).
  auto st = rename(exp, "a", exp, "full");
  EXPECT_TRUE(st == NFS4ERR_EXIST || st == NFS4ERR_NOTEMPTY) << st;
  EXPECT_EQ(rename(exp, "missing", exp, "new"), NFS4ERR_NOENT);
  EXPECT_EQ(rename(exp, "file", exp, ""), NFS4ERR_INVAL);
  EXPECT_EQ(rename(exp, "file", exp, ".."), NFS4ERR_BADNAME);
  // Everything is where it was.
  EXPECT_EQ(lookup(exp, "a"), NFS4_OK);
  EXPECT_EQ(lookup(exp, "file"), NFS4_OK);
  EXPECT_EQ(lookup(exp, "empty"), NFS4_OK);
  // Without a saved filehandle.
  auto r =
      c->call(c->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_RENAME, RenameArgs{"file", "f2"}));
  EXPECT_EQ(r.status, NFS4ERR_NOFILEHANDLE);
  // Same file under two names: nothing happens, successfully.
  ASSERT_EQ(link(c->lookup_path("/export/file"), exp, "hard"), NFS4_OK);
  EXPECT_EQ(rename(exp, "file", exp, "hard"), NFS4_OK);
  EXPECT_EQ(lookup(exp, "file"), NFS4_OK);
  EXPECT_EQ(lookup(exp, "hard"), NFS4_OK);
}

// ---- LINK, READLINK ------------------------------------------------------------------------

TEST_F(FileOpsTest, LinkCountsAndErrors) {
  Fh f = touch(exp, "f");
  Fh d = mkdir(exp, "d");
  EXPECT_EQ(get_attrs(*c, f, {FATTR4_NUMLINKS}).u32(FATTR4_NUMLINKS), 1u);
  auto r = c->call(c->builder()
                       .op(OP_PUTFH, PutFhArgs{f})
                       .op(OP_SAVEFH)
                       .op(OP_PUTFH, PutFhArgs{d})
                       .op(OP_LINK, ComponentArgs{"f2"})
                       .op(OP_GETFH));
  ASSERT_EQ(r.status, NFS4_OK);
  r.next_status(OP_PUTFH);
  r.next_status(OP_SAVEFH);
  r.next_status(OP_PUTFH);
  auto cinfo = r.next<ChangeInfoResult>(OP_LINK).ok.cinfo;
  EXPECT_LT(cinfo.before, cinfo.after);
  EXPECT_EQ(r.next<GetFhResult>(OP_GETFH).ok.object, d);  // current fh stays the directory
  EXPECT_EQ(get_attrs(*c, f, {FATTR4_NUMLINKS}).u32(FATTR4_NUMLINKS), 2u);
  Fh f2;
  ASSERT_EQ(lookup(d, "f2", &f2), NFS4_OK);
  EXPECT_EQ(get_attrs(*c, f2, {FATTR4_FILEID}).u64(FATTR4_FILEID),
            get_attrs(*c, f, {FATTR4_FILEID}).u64(FATTR4_FILEID));
  ASSERT_EQ(c->remove(exp, "f"), NFS4_OK);
  EXPECT_EQ(get_attrs(*c, f2, {FATTR4_NUMLINKS}).u32(FATTR4_NUMLINKS), 1u);

  EXPECT_EQ(link(d, exp, "dirlink"), NFS4ERR_ISDIR);
  EXPECT_EQ(link(f2, d, "f2"), NFS4ERR_EXIST);
  EXPECT_EQ(link(f2, f2, "x"), NFS4ERR_NOTDIR);
  auto nosave = c->call(c->builder().op(OP_PUTFH, PutFhArgs{d}).op(OP_LINK, ComponentArgs{"x"}));
  EXPECT_EQ(nosave.status, NFS4ERR_NOFILEHANDLE);
}

TEST_F(FileOpsTest, ReadlinkOfNonSymlinkIsInval) {
  Fh f = touch(exp, "f");
  for (const Fh* fh : {&f, &exp}) {
    auto r = c->call(c->builder().op(OP_PUTFH, PutFhArgs{*fh}).op(OP_READLINK));
    // §18.24.3 says WRONG_TYPE "should" be returned; its error list also has INVAL, which is
    // what servers commonly answer.
    EXPECT_TRUE(r.status == NFS4ERR_INVAL || r.status == NFS4ERR_WRONG_TYPE) << r.status;
  }
}

// ---- READDIR -------------------------------------------------------------------------------

TEST_F(FileOpsTest, ReaddirResumesByCookieWithSmallMaxcount) {
  Fh d = mkdir(exp, "d");
  std::set<std::string> expect;
  for (int i = 0; i < 40; ++i) {
    std::string name = "entry-" + std::to_string(i);
    ASSERT_EQ(make(d, name, CreateType{NF4FIFO, {}, {}}), NFS4_OK);
    expect.insert(name);
  }
  size_t calls = 0;
  auto names = list_all(d, 400, &calls);
  EXPECT_GT(calls, 3u) << "a 400-byte maxcount must split 40 entries";
  EXPECT_EQ(names.size(), expect.size());
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), expect);

  // Resuming from a cookie continues after that entry exactly.
  auto first = readdir(d, 0, {}, 400);
  ASSERT_EQ(first.status, NFS4_OK);
  ASSERT_GE(first.ok.entries.size(), 2u);
  auto from = readdir(d, first.ok.entries[0].cookie, first.ok.cookieverf, 400);
  ASSERT_EQ(from.status, NFS4_OK);
  ASSERT_FALSE(from.ok.entries.empty());
  EXPECT_EQ(from.ok.entries[0].name, first.ok.entries[1].name);
  // "." and ".." are not listed.
  EXPECT_EQ(std::count(names.begin(), names.end(), "."), 0);
  EXPECT_EQ(std::count(names.begin(), names.end(), ".."), 0);
}

TEST_F(FileOpsTest, ReaddirWithAttributes) {
  Fh d = mkdir(exp, "d");
  Fh f = touch(d, "f", 11);
  auto l = readdir(d, 0, {}, 8192, {FATTR4_TYPE, FATTR4_SIZE, FATTR4_FILEHANDLE, FATTR4_FILEID});
  ASSERT_EQ(l.status, NFS4_OK);
  ASSERT_EQ(l.ok.entries.size(), 1u);
  EXPECT_TRUE(l.ok.eof);
  Attrs a(l.ok.entries[0].attrs);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.u32(FATTR4_TYPE), NF4REG);
  EXPECT_EQ(a.u64(FATTR4_SIZE), 11u);
  EXPECT_EQ(a.fh(), f);
  // Write-only attributes cannot be asked for.
  EXPECT_EQ(readdir(d, 0, {}, 8192, {FATTR4_TIME_ACCESS_SET}).status, NFS4ERR_INVAL);
}

TEST_F(FileOpsTest, ReaddirCookieErrors) {
  Fh d = mkdir(exp, "d");
  for (int i = 0; i < 5; ++i)
    touch(d, "f" + std::to_string(i));
  auto first = readdir(d, 0, {}, 8192);
  ASSERT_EQ(first.status, NFS4_OK);
  ASSERT_EQ(first.ok.entries.size(), 5u);
  // Cookies never go stale, so the verifier is zero (a non-zero one makes the Linux client
  // drop all but the first page of its first READDIR reply and ask again).
  EXPECT_EQ(first.ok.cookieverf, Verifier{});
  const uint64_t cookie = first.ok.entries[1].cookie;
  // A verifier the server did not hand out.
  Verifier wrong = first.ok.cookieverf;
  wrong[0] ^= 0xff;
  EXPECT_EQ(readdir(d, cookie, wrong, 8192).status, NFS4ERR_NOT_SAME);
  // Cookies 1 and 2 are reserved (§18.23.3).
  EXPECT_EQ(readdir(d, 1, first.ok.cookieverf, 8192).status, NFS4ERR_BAD_COOKIE);
  EXPECT_EQ(readdir(d, 2, first.ok.cookieverf, 8192).status, NFS4ERR_BAD_COOKIE);
  // A cookie never handed out.
  EXPECT_EQ(readdir(d, 0x7777777777ull, first.ok.cookieverf, 8192).status, NFS4ERR_BAD_COOKIE);
  // Too small for even one entry.
  EXPECT_EQ(readdir(d, 0, {}, 10).status, NFS4ERR_TOOSMALL);
  EXPECT_EQ(readdir(d, 0, {}, 0).status, NFS4ERR_TOOSMALL);
  // The right verifier works.
  auto ok = readdir(d, cookie, first.ok.cookieverf, 8192);
  ASSERT_EQ(ok.status, NFS4_OK);
  EXPECT_EQ(ok.ok.entries.size(), 3u);
  // READDIR of a file is NOTDIR.
  Fh f = c->lookup_path("/export/d/f0");
  EXPECT_EQ(readdir(f, 0, {}, 8192).status, NFS4ERR_NOTDIR);
}

TEST_F(FileOpsTest, ReaddirOfThousandEntriesListsEachOnce) {
  Fh d = mkdir(exp, "big");
  constexpr int kEntries = 1000;
  const uint32_t per_call = (c->fore.maxoperations - 1) / 2;
  for (int i = 0; i < kEntries;) {
    auto b = c->builder();
    for (uint32_t k = 0; k < per_call && i < kEntries; ++k, ++i) {
      CreateArgs ca;
      ca.objtype.type = NF4SOCK;
      ca.objname = "n" + std::to_string(i);
      b.op(OP_PUTFH, PutFhArgs{d}).op(OP_CREATE, ca);
    }
    ASSERT_EQ(c->call(b).status, NFS4_OK);
  }
  size_t calls = 0;
  auto names = list_all(d, 4096, &calls);
  EXPECT_GT(calls, 1u);
  ASSERT_EQ(names.size(), static_cast<size_t>(kEntries));
  std::set<std::string> unique(names.begin(), names.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kEntries)) << "an entry was listed twice";
  for (int i = 0; i < kEntries; ++i) {
    EXPECT_TRUE(unique.count("n" + std::to_string(i))) << "n" << i;
  }
}

// ---- SECINFO, SECINFO_NO_NAME ----------------------------------------------------------------

TEST_F(FileOpsTest, SecinfoListsAuthSysAndConsumesCurrentFh) {
  touch(exp, "f");
  auto r = c->call(
      c->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_SECINFO, ComponentArgs{"f"}).op(OP_GETFH));
  EXPECT_EQ(r.status, NFS4ERR_NOFILEHANDLE);
  r.next_status(OP_PUTFH);
  auto si = r.next<SecInfoResult>(OP_SECINFO);
  ASSERT_EQ(si.status, NFS4_OK);
  bool sys = false;
  for (const auto& f : si.ok.flavors)
    sys = sys || f.flavor == 1;
  EXPECT_TRUE(sys) << "AUTH_SYS is offered";
  EXPECT_EQ(r.next_status(OP_GETFH), NFS4ERR_NOFILEHANDLE);

  auto missing =
      c->call(c->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_SECINFO, ComponentArgs{"nope"}));
  EXPECT_EQ(missing.status, NFS4ERR_NOENT);

  // SECINFO_NO_NAME of the current filehandle, and of its parent.
  for (uint32_t style : {SECINFO_STYLE4_CURRENT_FH, SECINFO_STYLE4_PARENT}) {
    auto n = c->call(c->builder()
                         .op(OP_PUTFH, PutFhArgs{exp})
                         .op(OP_SECINFO_NO_NAME, SecInfoNoNameArgs{style})
                         .op(OP_GETFH));
    EXPECT_EQ(n.status, NFS4ERR_NOFILEHANDLE);
    n.next_status(OP_PUTFH);
    auto sn = n.next<SecInfoResult>(OP_SECINFO_NO_NAME);
    ASSERT_EQ(sn.status, NFS4_OK);
    bool has_sys = false;
    for (const auto& f : sn.ok.flavors)
      has_sys = has_sys || f.flavor == 1;
    EXPECT_TRUE(has_sys);
    EXPECT_EQ(n.next_status(OP_GETFH), NFS4ERR_NOFILEHANDLE);
  }
  // The pseudo-root has no parent.
  auto top = c->call(c->builder()
                         .op(OP_PUTROOTFH)
                         .op(OP_SECINFO_NO_NAME, SecInfoNoNameArgs{SECINFO_STYLE4_PARENT}));
  EXPECT_EQ(top.status, NFS4ERR_NOENT);
}

// ---- permissions for an unprivileged AUTH_SYS caller -------------------------------------------

TEST_F(FileOpsTest, UnprivilegedUserCannotChangeRootOwnedDirectory) {
  touch(exp, "rootfile");
  auto user = client(1000, 1000);
  CreateArgs ca;
  ca.objtype.type = NF4DIR;
  ca.objname = "userdir";
  EXPECT_EQ(user->call(user->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_CREATE, ca)).status,
            NFS4ERR_ACCESS);
  auto o = do_open(*user, exp, open_args(*user, "userfile", OPEN4_SHARE_ACCESS_BOTH, 0, true));
  EXPECT_EQ(o.status, NFS4ERR_ACCESS);
  EXPECT_EQ(user->remove(exp, "rootfile"), NFS4ERR_ACCESS);
  EXPECT_EQ(rename(*user, exp, "rootfile", exp, "renamed"), NFS4ERR_ACCESS);
  // Opening root's 0644 file for writing is refused; for reading it is allowed.
  auto w = do_open(*user, exp, open_args(*user, "rootfile", OPEN4_SHARE_ACCESS_WRITE));
  EXPECT_EQ(w.status, NFS4ERR_ACCESS);
  auto rd = do_open(*user, exp, open_args(*user, "rootfile", OPEN4_SHARE_ACCESS_READ));
  EXPECT_EQ(rd.status, NFS4_OK);
  // Nothing changed.
  EXPECT_EQ(lookup(exp, "userdir"), NFS4ERR_NOENT);
  EXPECT_EQ(lookup(exp, "userfile"), NFS4ERR_NOENT);
  EXPECT_EQ(lookup(exp, "rootfile"), NFS4_OK);
}

TEST_F(FileOpsTest, StickyDirectoryProtectsOthersEntries) {
  Fh tmp = mkdir(exp, "tmp", 01777);
  EXPECT_EQ(get_attrs(*c, tmp, {FATTR4_MODE}).u32(FATTR4_MODE), 01777u);
  auto alice = client(1000, 1000);
  auto bob = client(1001, 1001);
  touch(*alice, tmp, "alices");
  touch(*bob, tmp, "bobs");
  // Bob may not remove or rename Alice's file in a sticky directory (the RFC lists ACCESS for
  // REMOVE and RENAME; servers commonly answer PERM, the caller not being the owner).
  auto st = bob->remove(tmp, "alices");
  EXPECT_TRUE(st == NFS4ERR_ACCESS || st == NFS4ERR_PERM) << st;
  st = rename(*bob, tmp, "alices", tmp, "stolen");
  EXPECT_TRUE(st == NFS4ERR_ACCESS || st == NFS4ERR_PERM) << st;
  // Nor replace it by renaming over it.
  st = rename(*bob, tmp, "bobs", tmp, "alices");
  EXPECT_TRUE(st == NFS4ERR_ACCESS || st == NFS4ERR_PERM) << st;
  EXPECT_EQ(lookup(*bob, tmp, "alices"), NFS4_OK);
  EXPECT_EQ(lookup(*bob, tmp, "bobs"), NFS4_OK);
  // Each may remove their own; root may remove anything.
  EXPECT_EQ(bob->remove(tmp, "bobs"), NFS4_OK);
  touch(*alice, tmp, "alices2");
  EXPECT_EQ(alice->remove(tmp, "alices"), NFS4_OK);
  EXPECT_EQ(c->remove(tmp, "alices2"), NFS4_OK);
  // Without the sticky bit, anyone with write permission on the directory may.
  Fh open_dir = mkdir(exp, "open", 0777);
  touch(*alice, open_dir, "a");
  EXPECT_EQ(bob->remove(open_dir, "a"), NFS4_OK);
}

}  // namespace
}  // namespace dfs::testing
