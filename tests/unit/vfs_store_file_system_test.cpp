// StoreFileSystem over the memory stores: each FileSystem call's success path and the errors
// POSIX (and the NFSv4 mapping in RFC 8881) expects from it.

#include "vfs/store_file_system.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store_results.h"
#include "vfs/block/memory_store.h"
#include "vfs/metadata/memory_store.h"

namespace dfs::vfs {
namespace {

using TimeHow = SetAttributes::TimeHow;

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string text(const ReadResult& r) {
  std::string out;
  for (const auto& p : r.data.pieces)
    out.append(p.bytes.begin(), p.bytes.end());
  return out;
}

SetAttributes with_mode(uint32_t mode) {
  SetAttributes a;
  a.mode = mode;
  return a;
}

class VfsStoreFileSystem : public ::testing::Test {
 protected:
  const Identity root_{0, 0, {}};
  const Identity alice_{1000, 100, {}};
  const Identity bob_{1001, 100, {}};
  const Identity eve_{2000, 2000, {2001}};

  std::shared_ptr<MemoryMetadataStore> meta_ = std::make_shared<MemoryMetadataStore>();
  std::shared_ptr<MemoryBlockStore> blocks_ = std::make_shared<MemoryBlockStore>();
  StoreFileSystem fs_{42, meta_, blocks_};
  InodeId root_dir_ = fs_.root();
  InodeId pub_ = kInvalidInode;  // /pub, 0777, owned by root: anyone may create

  void SetUp() override { pub_ = mkdir(root_, root_dir_, "pub", 0777); }

  InodeId mkdir(const Identity& who, InodeId dir, const std::string& name, uint32_t mode) {
    NewNode n;
    n.type = FileType::kDirectory;
    n.attrs.mode = mode;
    auto r = fs_.create_node(who, dir, name, n);
    EXPECT_TRUE(r.ok()) << name << ": " << to_string(r.status());
    return r.ok() ? r->attrs.id : kInvalidInode;
  }
  InodeId mkfile(const Identity& who, InodeId dir, const std::string& name, uint32_t mode = 0644) {
    auto r = fs_.create_file(who, dir, name, CreateMode::kGuarded, with_mode(mode));
    EXPECT_TRUE(r.ok()) << name << ": " << to_string(r.status());
    return r.ok() ? r->attrs.id : kInvalidInode;
  }
  InodeId mklink(const Identity& who, InodeId dir, const std::string& name,
                 const std::string& target) {
    NewNode n;
    n.type = FileType::kSymlink;
    n.symlink_target = target;
    auto r = fs_.create_node(who, dir, name, n);
    EXPECT_TRUE(r.ok()) << to_string(r.status());
    return r.ok() ? r->attrs.id : kInvalidInode;
  }
  Attributes attrs(InodeId id) {
    auto a = fs_.getattr(id);
    EXPECT_TRUE(a.ok()) << to_string(a.status());
    return a.ok() ? *a : Attributes{};
  }
  std::string read_str(InodeId id, uint64_t off = 0, size_t count = 1 << 20) {
    auto r = fs_.read(id, off, count);
    EXPECT_TRUE(r.ok()) << to_string(r.status());
    return r.ok() ? text(*r) : std::string();
  }
  void write_str(InodeId id, uint64_t off, const std::string& s) {
    auto w = fs_.write(id, off, bytes(s), false);
    ASSERT_TRUE(w.ok()) << to_string(w.status());
    EXPECT_EQ(w->count, s.size());
  }
  std::vector<std::string> names(InodeId dir) {
    std::vector<std::string> out;
    auto l = fs_.readdir(root_, dir, 0, 1000000);
    EXPECT_TRUE(l.ok());
    if (l.ok()) {
      for (const auto& e : l->entries)
        out.push_back(e.entry.name);
    }
    return out;
  }
};

// ---- basics -------------------------------------------------------------------------------

TEST_F(VfsStoreFileSystem, IdentityAndRoot) {
  EXPECT_EQ(fs_.fsid(), 42u);
  EXPECT_FALSE(fs_.read_only());
  Attributes a = attrs(root_dir_);
  EXPECT_EQ(a.type, FileType::kDirectory);
  EXPECT_EQ(a.mode, 0755u);
  EXPECT_EQ(a.nlink, 3u);  // 2 + /pub's ".."
  EXPECT_EQ(a.id, root_dir_);
  EXPECT_EQ(*fs_.parent(root_dir_), root_dir_);
  EXPECT_EQ(*fs_.parent(pub_), root_dir_);
  EXPECT_EQ(fs_.getattr(987654).status(), Status::kStale);
  EXPECT_EQ(fs_.parent(987654).status(), Status::kStale);
  InodeId f = mkfile(alice_, pub_, "f");
  EXPECT_EQ(fs_.parent(f).status(), Status::kNotDir);
}

TEST_F(VfsStoreFileSystem, NameValidation) {
  const std::string long_name(kMaxNameLength + 1, 'x');
  const std::string max_name(kMaxNameLength, 'y');
  const std::string with_nul("a\0b", 3);
  SetAttributes none;
  for (const std::string& bad :
       {std::string(), std::string("."), std::string(".."), std::string("a/b"), with_nul}) {
    EXPECT_EQ(fs_.create_file(alice_, pub_, bad, CreateMode::kGuarded, none).status(),
              Status::kInval)
        << bad;
    EXPECT_EQ(fs_.lookup(alice_, pub_, bad).status(), Status::kInval) << bad;
    EXPECT_EQ(fs_.remove(alice_, pub_, bad).status(), Status::kInval) << bad;
  }
  EXPECT_EQ(fs_.create_file(alice_, pub_, long_name, CreateMode::kGuarded, none).status(),
            Status::kNameTooLong);
  NewNode d;
  d.type = FileType::kDirectory;
  EXPECT_EQ(fs_.create_node(alice_, pub_, long_name, d).status(), Status::kNameTooLong);
  EXPECT_EQ(fs_.lookup(alice_, pub_, long_name).status(), Status::kNameTooLong);
  InodeId f = mkfile(alice_, pub_, max_name);
  EXPECT_EQ(*fs_.lookup(alice_, pub_, max_name), f);
  EXPECT_EQ(fs_.rename(alice_, pub_, max_name, pub_, "..").status(), Status::kInval);
  EXPECT_EQ(fs_.rename(alice_, pub_, max_name, pub_, long_name).status(), Status::kNameTooLong);
  EXPECT_EQ(fs_.link(alice_, f, pub_, "x/y").status(), Status::kInval);
}

// ---- lookup / access ----------------------------------------------------------------------

TEST_F(VfsStoreFileSystem, LookupRules) {
  InodeId priv = mkdir(alice_, pub_, "priv", 0700);
  InodeId f = mkfile(alice_, priv, "f");
  EXPECT_EQ(*fs_.lookup(alice_, priv, "f"), f);
  EXPECT_EQ(*fs_.lookup(root_, priv, "f"), f);  // root may always search directories
  EXPECT_EQ(fs_.lookup(bob_, priv, "f").status(), Status::kAccess);
  EXPECT_EQ(fs_.lookup(alice_, priv, "nope").status(), Status::kNoEnt);
  EXPECT_EQ(fs_.lookup(alice_, f, "x").status(), Status::kNotDir);
  EXPECT_EQ(fs_.lookup(alice_, 999999, "x").status(), Status::kStale);
  // Search permission is the x bit only: a 0711 dir allows lookup but not listing.
  InodeId blind = mkdir(alice_, pub_, "blind", 0711);
  InodeId g = mkfile(alice_, blind, "g");
  EXPECT_EQ(*fs_.lookup(bob_, blind, "g"), g);
  EXPECT_EQ(fs_.readdir(bob_, blind, 0, 10).status(), Status::kAccess);
}

TEST_F(VfsStoreFileSystem, AccessReturnsGrantedSubset) {
  InodeId f = mkfile(alice_, pub_, "f", 0640);
  const uint32_t all = kAccessRead | kAccessWrite | kAccessExecute;
  EXPECT_EQ(*fs_.access(alice_, f, all), kAccessRead | kAccessWrite);
  EXPECT_EQ(*fs_.access(bob_, f, all), kAccessRead);
  EXPECT_EQ(*fs_.access(eve_, f, all), 0u);
  EXPECT_EQ(*fs_.access(root_, f, all), kAccessRead | kAccessWrite);
  EXPECT_EQ(*fs_.access(alice_, f, kAccessWrite), kAccessWrite);
  EXPECT_EQ(*fs_.access(root_, pub_, kAccessExecute), kAccessExecute);
  EXPECT_EQ(fs_.access(alice_, 999999, all).status(), Status::kStale);
}

// ---- create_file --------------------------------------------------------------------------

TEST_F(VfsStoreFileSystem, CreateFileGuarded) {
  Attributes before = attrs(pub_);
  auto r = fs_.create_file(alice_, pub_, "f", CreateMode::kGuarded, SetAttributes{});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->created);
  EXPECT_EQ(r->attrs.type, FileType::kRegular);
  EXPECT_EQ(r->attrs.mode, 0644u);  // default
  EXPECT_EQ(r->attrs.uid, alice_.uid);
  EXPECT_EQ(r->attrs.gid, alice_.gid);
  EXPECT_EQ(r->attrs.nlink, 1u);
  EXPECT_EQ(r->attrs.size, 0u);
  EXPECT_EQ(r->attrs.btime, r->attrs.ctime);
  EXPECT_EQ(r->dir_change.before, before.change);
  EXPECT_GT(r->dir_change.after, r->dir_change.before);
  Attributes after = attrs(pub_);
  EXPECT_EQ(after.change, r->dir_change.after);
  EXPECT_GE(after.mtime, before.mtime);
  EXPECT_EQ(after.nlink, before.nlink);  // files do not add a link to the directory
  EXPECT_EQ(*fs_.lookup(alice_, pub_, "f"), r->attrs.id);

  EXPECT_EQ(fs_.create_file(alice_, pub_, "f", CreateMode::kGuarded, {}).status(), Status::kExist);
  EXPECT_EQ(fs_.create_file(bob_, pub_, "f", CreateMode::kGuarded, {}).status(), Status::kExist);
}

TEST_F(VfsStoreFileSystem, CreateFileErrors) {
  InodeId home = mkdir(alice_, pub_, "home", 0755);
  InodeId f = mkfile(alice_, home, "f");
  EXPECT_EQ(fs_.create_file(bob_, home, "x", CreateMode::kGuarded, {}).status(),
            Status::kAccess);  // no write permission on the directory
  InodeId locked = mkdir(alice_, pub_, "locked", 0600);
  EXPECT_EQ(fs_.create_file(bob_, locked, "x", CreateMode::kGuarded, {}).status(),
            Status::kAccess);  // no search permission
  EXPECT_EQ(fs_.create_file(alice_, f, "x", CreateMode::kGuarded, {}).status(), Status::kNotDir);
  EXPECT_EQ(fs_.create_file(alice_, 999999, "x", CreateMode::kGuarded, {}).status(),
            Status::kStale);
  SetAttributes huge;
  huge.size = kMaxFileSize + 1;
  EXPECT_EQ(fs_.create_file(alice_, home, "big", CreateMode::kGuarded, huge).status(),
            Status::kFBig);
}

TEST_F(VfsStoreFileSystem, CreateFileInitialAttributes) {
  SetAttributes a;
  a.mode = 0600;
  a.size = 1000;
  auto r = fs_.create_file(alice_, pub_, "sized", CreateMode::kGuarded, a);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->attrs.mode, 0600u);
  EXPECT_EQ(r->attrs.size, 1000u);
  EXPECT_EQ(read_str(r->attrs.id), std::string(1000, '\0'));

  // Owner/group from the request only where the caller could chown to them.
  SetAttributes owner;
  owner.uid = 5;
  owner.gid = 2001;
  auto e = fs_.create_file(eve_, pub_, "e", CreateMode::kGuarded, owner);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->attrs.uid, eve_.uid);  // not root: uid ignored
  EXPECT_EQ(e->attrs.gid, 2001u);     // a supplementary group: honoured
  owner.gid = 7;
  auto e2 = fs_.create_file(eve_, pub_, "e2", CreateMode::kGuarded, owner);
  ASSERT_TRUE(e2.ok());
  EXPECT_EQ(e2->attrs.gid, eve_.gid);  // foreign group ignored
  auto rt = fs_.create_file(root_, pub_, "r", CreateMode::kGuarded, owner);
  ASSERT_TRUE(rt.ok());
  EXPECT_EQ(rt->attrs.uid, 5u);
  EXPECT_EQ(rt->attrs.gid, 7u);

  SetAttributes times;
  times.mtime_how = TimeHow::kClientTime;
  times.mtime = Timespec{1000, 5};
  auto t = fs_.create_file(alice_, pub_, "t", CreateMode::kGuarded, times);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->attrs.mtime, (Timespec{1000, 5}));
}

TEST_F(VfsStoreFileSystem, CreateInSetgidDirectoryInheritsGroup) {
  InodeId shared = mkdir(root_, pub_, "shared", 0777);
  SetAttributes chg;
  chg.gid = 555;
  chg.mode = 02777;
  ASSERT_TRUE(fs_.setattr(root_, shared, chg).ok());
  InodeId f = mkfile(alice_, shared, "f");
  EXPECT_EQ(attrs(f).gid, 555u);
  EXPECT_EQ(attrs(f).mode & kSetGid, 0u);
  InodeId d = mkdir(alice_, shared, "d", 0755);
  EXPECT_EQ(attrs(d).gid, 555u);
  EXPECT_EQ(attrs(d).mode, 02755u);  // directories pass the setgid bit down
  // Not in the group: a requested setgid bit on a new file is dropped.
  auto g = fs_.create_file(alice_, shared, "g", CreateMode::kGuarded, with_mode(02755));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->attrs.mode, 0755u);
  // Without setgid on the parent the creator's group is used.
  InodeId plain = mkfile(alice_, pub_, "plain");
  EXPECT_EQ(attrs(plain).gid, alice_.gid);
}

TEST_F(VfsStoreFileSystem, CreateFileUncheckedOpensExisting) {
  InodeId f = mkfile(alice_, pub_, "f");
  write_str(f, 0, "hello world");
  Attributes before = attrs(pub_);
  auto r = fs_.create_file(alice_, pub_, "f", CreateMode::kUnchecked, {});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->created);
  EXPECT_EQ(r->attrs.id, f);
  EXPECT_EQ(r->attrs.size, 11u);
  EXPECT_EQ(r->dir_change.before, r->dir_change.after);
  EXPECT_EQ(attrs(pub_).change, before.change);  // nothing created: directory unchanged

  // With a size: open(O_TRUNC) semantics, which needs write permission on the file.
  SetAttributes trunc;
  trunc.size = 0;
  trunc.mode = 0777;  // ignored for an existing file
  EXPECT_EQ(fs_.create_file(bob_, pub_, "f", CreateMode::kUnchecked, trunc).status(),
            Status::kAccess);
  EXPECT_EQ(attrs(f).size, 11u);
  uint64_t change = attrs(f).change;
  auto t = fs_.create_file(alice_, pub_, "f", CreateMode::kUnchecked, trunc);
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->created);
  EXPECT_EQ(t->attrs.size, 0u);
  EXPECT_EQ(t->attrs.mode, 0644u);
  EXPECT_GT(t->attrs.change, change);
  EXPECT_EQ(read_str(f), "");

  // Unchecked create of a new name creates it.
  auto n = fs_.create_file(bob_, pub_, "new", CreateMode::kUnchecked, {});
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(n->created);

  // Existing non-regular names.
  mkdir(alice_, pub_, "d", 0755);
  mklink(alice_, pub_, "l", "f");
  EXPECT_EQ(fs_.create_file(alice_, pub_, "d", CreateMode::kUnchecked, {}).status(),
            Status::kIsDir);
  EXPECT_EQ(fs_.create_file(alice_, pub_, "l", CreateMode::kUnchecked, {}).status(),
            Status::kExist);
}

TEST_F(VfsStoreFileSystem, CreateFileExclusiveRetryIsIdempotent) {
  const std::array<uint8_t, 8> v1{1, 2, 3, 4, 5, 6, 7, 8};
  const std::array<uint8_t, 8> v2{8, 7, 6, 5, 4, 3, 2, 1};
  auto first = fs_.create_file(alice_, pub_, "x", CreateMode::kExclusive, {}, v1);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->created);
  auto retry = fs_.create_file(alice_, pub_, "x", CreateMode::kExclusive, {}, v1);
  ASSERT_TRUE(retry.ok());
  EXPECT_FALSE(retry->created);
  EXPECT_EQ(retry->attrs.id, first->attrs.id);
  EXPECT_EQ(retry->dir_change.before, retry->dir_change.after);
  EXPECT_EQ(fs_.create_file(alice_, pub_, "x", CreateMode::kExclusive, {}, v2).status(),
            Status::kExist);
  EXPECT_EQ(found(meta_->get(first->attrs.id))->create_verifier, v1);

  // The verifier is forgotten once attributes are set...
  ASSERT_TRUE(fs_.setattr(alice_, first->attrs.id, with_mode(0600)).ok());
  EXPECT_FALSE(found(meta_->get(first->attrs.id))->create_verifier.has_value());
  EXPECT_EQ(fs_.create_file(alice_, pub_, "x", CreateMode::kExclusive, {}, v1).status(),
            Status::kExist);
  // ...or data is written.
  auto y = fs_.create_file(alice_, pub_, "y", CreateMode::kExclusive, {}, v2);
  ASSERT_TRUE(y.ok());
  write_str(y->attrs.id, 0, "data");
  EXPECT_EQ(fs_.create_file(alice_, pub_, "y", CreateMode::kExclusive, {}, v2).status(),
            Status::kExist);
  // A directory under the name is never an exclusive-create match.
  mkdir(alice_, pub_, "d", 0755);
  EXPECT_EQ(fs_.create_file(alice_, pub_, "d", CreateMode::kExclusive, {}, {}).status(),
            Status::kExist);
}

// ---- create_node --------------------------------------------------------------------------

TEST_F(VfsStoreFileSystem, CreateDirectory) {
  Attributes parent_before = attrs(pub_);
  NewNode n;
  n.type = FileType::kDirectory;
  auto r = fs_.create_node(alice_, pub_, "d", n);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->attrs.type, FileType::kDirectory);
  EXPECT_EQ(r->attrs.mode, 0755u);
  EXPECT_EQ(r->attrs.nlink, 2u);
  EXPECT_EQ(r->attrs.uid, alice_.uid);
  EXPECT_EQ(attrs(pub_).nlink, parent_before.nlink + 1);
  EXPECT_EQ(r->dir_change.before, parent_before.change);
  EXPECT_EQ(r->dir_change.after, attrs(pub_).change);
  EXPECT_EQ(*fs_.parent(r->attrs.id), pub_);
  EXPECT_EQ(fs_.create_node(alice_, pub_, "d", n).status(), Status::kExist);
  EXPECT_TRUE(names(r->attrs.id).empty());
}

TEST_F(VfsStoreFileSystem, CreateSymlinkAndReadlink) {
  InodeId l = mklink(alice_, pub_, "l", "../some/where");
  Attributes a = attrs(l);
  EXPECT_EQ(a.type, FileType::kSymlink);
  EXPECT_EQ(a.mode, 0777u);
  EXPECT_EQ(a.size, 13u);
  EXPECT_EQ(*fs_.readlink(l), "../some/where");
  InodeId f = mkfile(alice_, pub_, "f");
  EXPECT_EQ(fs_.readlink(f).status(), Status::kInval);
  EXPECT_EQ(fs_.readlink(999999).status(), Status::kStale);
  NewNode empty;
  empty.type = FileType::kSymlink;
  EXPECT_EQ(fs_.create_node(alice_, pub_, "e", empty).status(), Status::kInval);
  NewNode too_long;
  too_long.type = FileType::kSymlink;
  too_long.symlink_target = std::string(StoreFileSystem::kMaxSymlinkLength + 1, 'a');
  EXPECT_EQ(fs_.create_node(alice_, pub_, "t", too_long).status(), Status::kNameTooLong);
  // Reading a symlink as data is not allowed.
  EXPECT_EQ(fs_.read(l, 0, 10).status(), Status::kInval);
  EXPECT_EQ(fs_.write(l, 0, bytes("x"), false).status(), Status::kInval);
}

TEST_F(VfsStoreFileSystem, CreateSpecialNodes) {
  NewNode dev;
  dev.type = FileType::kCharDevice;
  dev.rdev = DeviceNumber{4, 64};
  auto c = fs_.create_node(root_, pub_, "tty", dev);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->attrs.type, FileType::kCharDevice);
  EXPECT_EQ(c->attrs.rdev, (DeviceNumber{4, 64}));
  EXPECT_EQ(c->attrs.mode, 0644u);
  NewNode blk;
  blk.type = FileType::kBlockDevice;
  blk.rdev = DeviceNumber{8, 1};
  EXPECT_EQ(fs_.create_node(root_, pub_, "sda1", blk)->attrs.rdev, (DeviceNumber{8, 1}));
  NewNode fifo;
  fifo.type = FileType::kFifo;
  fifo.attrs.mode = 0600;
  auto p = fs_.create_node(alice_, pub_, "pipe", fifo);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->attrs.mode, 0600u);
  EXPECT_EQ(fs_.read(p->attrs.id, 0, 1).status(), Status::kInval);
  NewNode sock;
  sock.type = FileType::kSocket;
  EXPECT_EQ(fs_.create_node(alice_, pub_, "sock", sock)->attrs.type, FileType::kSocket);
  NewNode reg;
  reg.type = FileType::kRegular;
  EXPECT_EQ(fs_.create_node(alice_, pub_, "reg", reg).status(), Status::kBadType);
}

TEST_F(VfsStoreFileSystem, CreateNodeErrors) {
  InodeId home = mkdir(alice_, pub_, "home", 0755);
  NewNode d;
  d.type = FileType::kDirectory;
  EXPECT_EQ(fs_.create_node(bob_, home, "x", d).status(), Status::kAccess);
  InodeId f = mkfile(alice_, home, "f");
  EXPECT_EQ(fs_.create_node(alice_, f, "x", d).status(), Status::kNotDir);
  EXPECT_EQ(fs_.create_node(alice_, 999999, "x", d).status(), Status::kStale);
  // The parent's link count is full: no new subdirectory (its ".." would be one more link).
  auto rec = *found(meta_->get(home));
  rec.nlink = kMaxLinks;
  ASSERT_EQ(meta_->put(rec), Status::kOk);
  EXPECT_EQ(fs_.create_node(alice_, home, "x", d).status(), Status::kMLink);
  NewNode fifo;
  fifo.type = FileType::kFifo;
  EXPECT_TRUE(fs_.create_node(alice_, home, "fifo", fifo).ok());  // non-dirs are fine
}

// ---- remove -------------------------------------------------------------------------------

TEST_F(VfsStoreFileSystem, RemoveFileFreesInodeAndContent) {
  InodeId f = mkfile(alice_, pub_, "f");
  write_str(f, 0, std::string(10000, 'z'));
  EXPECT_GT(blocks_->total_bytes_used(), 0u);
  uint64_t inodes = ok(meta_->inode_count());
  Attributes before = attrs(pub_);
  auto r = fs_.remove(alice_, pub_, "f");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->before, before.change);
  EXPECT_EQ(r->after, attrs(pub_).change);
  EXPECT_GT(r->after, r->before);
  EXPECT_EQ(fs_.getattr(f).status(), Status::kStale);
  EXPECT_EQ(fs_.lookup(alice_, pub_, "f").status(), Status::kNoEnt);
  EXPECT_EQ(blocks_->total_bytes_used(), 0u);
  EXPECT_EQ(ok(meta_->inode_count()), inodes - 1);
  EXPECT_EQ(fs_.remove(alice_, pub_, "f").status(), Status::kNoEnt);
  EXPECT_EQ(fs_.write(f, 0, bytes("x"), false).status(), Status::kStale);
  EXPECT_EQ(fs_.read(f, 0, 1).status(), Status::kStale);
}

TEST_F(VfsStoreFileSystem, RemoveOneOfTwoLinksKeepsTheFile) {
  InodeId f = mkfile(alice_, pub_, "a");
  write_str(f, 0, "shared");
  ASSERT_TRUE(fs_.link(alice_, f, pub_, "b").ok());
  EXPECT_EQ(attrs(f).nlink, 2u);
  uint64_t change = attrs(f).change;
  ASSERT_TRUE(fs_.remove(alice_, pub_, "a").ok());
  Attributes a = attrs(f);
  EXPECT_EQ(a.nlink, 1u);
  EXPECT_GT(a.change, change);  // ctime/change move with the link count
  EXPECT_EQ(read_str(f), "shared");
  ASSERT_TRUE(fs_.remove(alice_, pub_, "b").ok());
  EXPECT_EQ(fs_.getattr(f).status(), Status::kStale);
}

TEST_F(VfsStoreFileSystem, RemoveDirectory) {
  InodeId d = mkdir(alice_, pub_, "d", 0755);
  InodeId inner = mkfile(alice_, d, "inner");
  uint32_t nlink = attrs(pub_).nlink;
  EXPECT_EQ(fs_.remove(alice_, pub_, "d").status(), Status::kNotEmpty);
  ASSERT_TRUE(fs_.remove(alice_, d, "inner").ok());
  EXPECT_EQ(fs_.getattr(inner).status(), Status::kStale);
  ASSERT_TRUE(fs_.remove(alice_, pub_, "d").ok());
  EXPECT_EQ(attrs(pub_).nlink, nlink - 1);
  EXPECT_EQ(fs_.getattr(d).status(), Status::kStale);
}

TEST_F(VfsStoreFileSystem, RemovePermissions) {
  InodeId home = mkdir(alice_, pub_, "home", 0755);
  mkfile(alice_, home, "f");
  EXPECT_EQ(fs_.remove(bob_, home, "f").status(), Status::kAccess);
  EXPECT_EQ(fs_.remove(bob_, home, "missing").status(), Status::kNoEnt);
  InodeId locked = mkdir(alice_, pub_, "locked", 0700);
  EXPECT_EQ(fs_.remove(bob_, locked, "x").status(), Status::kAccess);
  InodeId f = mkfile(alice_, pub_, "file");
  EXPECT_EQ(fs_.remove(alice_, f, "x").status(), Status::kNotDir);
  EXPECT_EQ(fs_.remove(alice_, 999999, "x").status(), Status::kStale);
}

TEST_F(VfsStoreFileSystem, StickyDirectoryRestrictsRemoval) {
  InodeId tmp = mkdir(alice_, pub_, "tmp", 01777);  // owned by alice
  mkfile(bob_, tmp, "bobs");
  mkfile(eve_, tmp, "eves");
  mkfile(eve_, tmp, "eves2");
  mkfile(eve_, tmp, "eves3");
  // A stranger may not remove someone else's entry even with write permission.
  EXPECT_EQ(fs_.remove(eve_, tmp, "bobs").status(), Status::kPerm);
  EXPECT_EQ(fs_.rename(eve_, tmp, "bobs", tmp, "mine").status(), Status::kPerm);
  // ... nor replace it by renaming onto it.
  EXPECT_EQ(fs_.rename(eve_, tmp, "eves", tmp, "bobs").status(), Status::kPerm);
  // The entry's owner, the directory's owner and root may.
  EXPECT_TRUE(fs_.remove(eve_, tmp, "eves").ok());
  EXPECT_TRUE(fs_.remove(alice_, tmp, "eves2").ok());
  EXPECT_TRUE(fs_.remove(root_, tmp, "eves3").ok());
  EXPECT_TRUE(fs_.rename(bob_, tmp, "bobs", tmp, "bobs2").ok());
}

// ---- rename -------------------------------------------------------------------------------

TEST_F(VfsStoreFileSystem, RenameWithinDirectory) {
  InodeId f = mkfile(alice_, pub_, "a");
  uint64_t fchange = attrs(f).change;
  Attributes before = attrs(pub_);
  auto r = fs_.rename(alice_, pub_, "a", pub_, "b");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->source.before, before.change);
  EXPECT_EQ(r->target.before, before.change);
  EXPECT_GT(r->source.after, before.change);
  EXPECT_EQ(r->source.after, r->target.after);
  EXPECT_EQ(attrs(pub_).change, r->source.after);
  EXPECT_EQ(*fs_.lookup(alice_, pub_, "b"), f);
  EXPECT_EQ(fs_.lookup(alice_, pub_, "a").status(), Status::kNoEnt);
  EXPECT_GT(attrs(f).change, fchange);  // rename moves the file's ctime/change
  EXPECT_EQ(fs_.rename(alice_, pub_, "a", pub_, "c").status(), Status::kNoEnt);
}

TEST_F(VfsStoreFileSystem, RenameDirectoryAcrossParentsUpdatesLinksAndParent) {
  InodeId a = mkdir(alice_, pub_, "a", 0755);
  InodeId b = mkdir(alice_, pub_, "b", 0755);
  InodeId d = mkdir(alice_, a, "d", 0755);
  EXPECT_EQ(attrs(a).nlink, 3u);
  EXPECT_EQ(attrs(b).nlink, 2u);
  Attributes a_before = attrs(a), b_before = attrs(b);
  auto r = fs_.rename(alice_, a, "d", b, "d2");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->source.before, a_before.change);
  EXPECT_EQ(r->target.before, b_before.change);
  EXPECT_EQ(r->source.after, attrs(a).change);
  EXPECT_EQ(r->target.after, attrs(b).change);
  EXPECT_EQ(attrs(a).nlink, 2u);
  EXPECT_EQ(attrs(b).nlink, 3u);
  EXPECT_EQ(*fs_.parent(d), b);
  EXPECT_EQ(*fs_.lookup(alice_, b, "d2"), d);
  EXPECT_EQ(attrs(d).nlink, 2u);
}

TEST_F(VfsStoreFileSystem, RenameFileAcrossDirectoriesKeepsDirLinks) {
  InodeId a = mkdir(alice_, pub_, "a", 0755);
  InodeId b = mkdir(alice_, pub_, "b", 0755);
  InodeId f = mkfile(alice_, a, "f");
  write_str(f, 0, "content");
  ASSERT_TRUE(fs_.rename(alice_, a, "f", b, "g").ok());
  EXPECT_EQ(attrs(a).nlink, 2u);
  EXPECT_EQ(attrs(b).nlink, 2u);
  EXPECT_EQ(read_str(*fs_.lookup(alice_, b, "g")), "content");
}

TEST_F(VfsStoreFileSystem, RenameIntoOwnSubtreeIsInvalid) {
  InodeId a = mkdir(alice_, pub_, "a", 0755);
  InodeId b = mkdir(alice_, a, "b", 0755);
  InodeId c = mkdir(alice_, b, "c", 0755);
  EXPECT_EQ(fs_.rename(alice_, pub_, "a", c, "a").status(), Status::kInval);
  EXPECT_EQ(fs_.rename(alice_, pub_, "a", b, "x").status(), Status::kInval);
  EXPECT_EQ(fs_.rename(alice_, pub_, "a", a, "x").status(), Status::kInval);  // into itself
  EXPECT_EQ(fs_.rename(alice_, a, "b", c, "x").status(), Status::kInval);
  // Nothing moved.
  EXPECT_EQ(*fs_.lookup(alice_, pub_, "a"), a);
  EXPECT_EQ(*fs_.parent(a), pub_);
  // Moving up the tree is fine.
  EXPECT_TRUE(fs_.rename(alice_, b, "c", pub_, "c").ok());
  EXPECT_EQ(*fs_.parent(c), pub_);
}

TEST_F(VfsStoreFileSystem, RenameReplacingTargets) {
  InodeId f1 = mkfile(alice_, pub_, "f1");
  InodeId f2 = mkfile(alice_, pub_, "f2");
  write_str(f2, 0, std::string(5000, 'q'));
  InodeId d1 = mkdir(alice_, pub_, "d1", 0755);
  InodeId d2 = mkdir(alice_, pub_, "d2", 0755);
  InodeId full = mkdir(alice_, pub_, "full", 0755);
  mkfile(alice_, full, "x");

  EXPECT_EQ(fs_.rename(alice_, pub_, "f1", pub_, "d1").status(), Status::kIsDir);
  EXPECT_EQ(fs_.rename(alice_, pub_, "d1", pub_, "f1").status(), Status::kNotDir);
  EXPECT_EQ(fs_.rename(alice_, pub_, "d1", pub_, "full").status(), Status::kNotEmpty);

  // File over file: the replaced file goes, with its content.
  ASSERT_TRUE(fs_.rename(alice_, pub_, "f1", pub_, "f2").ok());
  EXPECT_EQ(*fs_.lookup(alice_, pub_, "f2"), f1);
  EXPECT_EQ(fs_.getattr(f2).status(), Status::kStale);
  EXPECT_EQ(blocks_->space_used(f2), 0u);
  EXPECT_EQ(blocks_->total_bytes_used(), 0u);

  // Directory over empty directory: the replaced one is gone and the parent lost its link.
  uint32_t nlink = attrs(pub_).nlink;
  ASSERT_TRUE(fs_.rename(alice_, pub_, "d1", pub_, "d2").ok());
  EXPECT_EQ(*fs_.lookup(alice_, pub_, "d2"), d1);
  EXPECT_EQ(fs_.getattr(d2).status(), Status::kStale);
  EXPECT_EQ(attrs(pub_).nlink, nlink - 1);
}

TEST_F(VfsStoreFileSystem, RenameDirectoryOverEmptyDirectoryInOtherParent) {
  InodeId a = mkdir(alice_, pub_, "a", 0755);
  InodeId b = mkdir(alice_, pub_, "b", 0755);
  InodeId src = mkdir(alice_, a, "src", 0755);
  mkdir(alice_, b, "dst", 0755);
  ASSERT_TRUE(fs_.rename(alice_, a, "src", b, "dst").ok());
  EXPECT_EQ(attrs(a).nlink, 2u);
  EXPECT_EQ(attrs(b).nlink, 3u);  // lost the replaced dir's "..", gained src's
  EXPECT_EQ(*fs_.parent(src), b);
}

TEST_F(VfsStoreFileSystem, RenameOverHardLinkToSameFileDoesNothing) {
  InodeId f = mkfile(alice_, pub_, "a");
  ASSERT_TRUE(fs_.link(alice_, f, pub_, "b").ok());
  Attributes before = attrs(pub_);
  uint64_t fchange = attrs(f).change;
  auto r = fs_.rename(alice_, pub_, "a", pub_, "b");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->source.before, r->source.after);
  EXPECT_EQ(attrs(pub_).change, before.change);
  EXPECT_EQ(*fs_.lookup(alice_, pub_, "a"), f);  // both names remain (POSIX rename(2))
  EXPECT_EQ(*fs_.lookup(alice_, pub_, "b"), f);
  EXPECT_EQ(attrs(f).nlink, 2u);
  EXPECT_EQ(attrs(f).change, fchange);
  // Renaming a name onto itself is the same case.
  EXPECT_TRUE(fs_.rename(alice_, pub_, "a", pub_, "a").ok());
  EXPECT_EQ(*fs_.lookup(alice_, pub_, "a"), f);
}

TEST_F(VfsStoreFileSystem, RenameOverFileWithOtherLinksDecrementsIt) {
  mkfile(alice_, pub_, "src");
  InodeId t = mkfile(alice_, pub_, "t");
  ASSERT_TRUE(fs_.link(alice_, t, pub_, "t2").ok());
  write_str(t, 0, "keep");
  ASSERT_TRUE(fs_.rename(alice_, pub_, "src", pub_, "t").ok());
  EXPECT_EQ(attrs(t).nlink, 1u);
  EXPECT_EQ(read_str(t), "keep");
}

TEST_F(VfsStoreFileSystem, RenamePermissions) {
  InodeId home = mkdir(alice_, pub_, "home", 0755);
  mkfile(alice_, home, "f");
  mkfile(bob_, pub_, "bobs");
  // No write permission on the source, or on the target directory.
  EXPECT_EQ(fs_.rename(bob_, home, "f", pub_, "f").status(), Status::kAccess);
  EXPECT_EQ(fs_.rename(bob_, pub_, "bobs", home, "bobs").status(), Status::kAccess);
  InodeId priv = mkdir(alice_, pub_, "priv", 0700);
  EXPECT_EQ(fs_.rename(bob_, priv, "x", pub_, "y").status(), Status::kAccess);
  // Moving a directory to another parent needs write permission on it (its "..").
  mkdir(alice_, pub_, "ro_dir", 0555);
  InodeId bobdir = mkdir(bob_, pub_, "bobdir", 0777);
  EXPECT_EQ(fs_.rename(bob_, pub_, "ro_dir", bobdir, "moved").status(), Status::kAccess);
  // ... but not to rename it within its parent.
  EXPECT_TRUE(fs_.rename(bob_, pub_, "ro_dir", pub_, "ro_dir2").ok());
  InodeId f = mkfile(alice_, pub_, "file");
  EXPECT_EQ(fs_.rename(alice_, f, "x", pub_, "y").status(), Status::kNotDir);
  EXPECT_EQ(fs_.rename(alice_, pub_, "file", f, "y").status(), Status::kNotDir);
  EXPECT_EQ(fs_.rename(alice_, 999999, "x", pub_, "y").status(), Status::kStale);
}

TEST_F(VfsStoreFileSystem, RenameDirectoryIntoFullParentIsMLink) {
  InodeId a = mkdir(alice_, pub_, "a", 0755);
  InodeId b = mkdir(alice_, pub_, "b", 0755);
  mkdir(alice_, a, "d", 0755);
  auto rec = *found(meta_->get(b));
  rec.nlink = kMaxLinks;
  ASSERT_EQ(meta_->put(rec), Status::kOk);
  EXPECT_EQ(fs_.rename(alice_, a, "d", b, "d").status(), Status::kMLink);
}

// ---- link ---------------------------------------------------------------------------------

TEST_F(VfsStoreFileSystem, LinkRules) {
  InodeId f = mkfile(alice_, pub_, "f");
  uint64_t change = attrs(f).change;
  Attributes dir_before = attrs(pub_);
  auto r = fs_.link(alice_, f, pub_, "g");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->before, dir_before.change);
  EXPECT_EQ(r->after, attrs(pub_).change);
  EXPECT_EQ(attrs(f).nlink, 2u);
  EXPECT_GT(attrs(f).change, change);
  EXPECT_EQ(*fs_.lookup(alice_, pub_, "g"), f);

  EXPECT_EQ(fs_.link(alice_, f, pub_, "g").status(), Status::kExist);
  InodeId d = mkdir(alice_, pub_, "d", 0755);
  EXPECT_EQ(fs_.link(alice_, d, pub_, "dlink").status(), Status::kIsDir);
  EXPECT_EQ(fs_.link(alice_, f, f, "x").status(), Status::kNotDir);
  EXPECT_EQ(fs_.link(alice_, 999999, pub_, "x").status(), Status::kStale);
  EXPECT_EQ(fs_.link(alice_, f, 999999, "x").status(), Status::kStale);
  InodeId home = mkdir(alice_, pub_, "home", 0755);
  EXPECT_EQ(fs_.link(bob_, f, home, "x").status(), Status::kAccess);

  auto rec = *found(meta_->get(f));
  rec.nlink = kMaxLinks;
  ASSERT_EQ(meta_->put(rec), Status::kOk);
  EXPECT_EQ(fs_.link(alice_, f, pub_, "h").status(), Status::kMLink);
}

// ---- setattr ------------------------------------------------------------------------------

TEST_F(VfsStoreFileSystem, SetattrModeOwnership) {
  InodeId f = mkfile(alice_, pub_, "f");
  Attributes before = attrs(f);
  auto r = fs_.setattr(alice_, f, with_mode(0600));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->mode, 0600u);
  EXPECT_GT(r->change, before.change);
  EXPECT_GE(r->ctime, before.ctime);
  EXPECT_EQ(fs_.setattr(bob_, f, with_mode(0666)).status(), Status::kPerm);
  EXPECT_EQ(attrs(f).mode, 0600u);
  EXPECT_EQ(fs_.setattr(root_, f, with_mode(04755))->mode, 04755u);
  // Group not among the owner's: setgid silently dropped.
  SetAttributes chg;
  chg.gid = 999;
  ASSERT_TRUE(fs_.setattr(root_, f, chg).ok());
  EXPECT_EQ(fs_.setattr(alice_, f, with_mode(02755))->mode, 0755u);
  EXPECT_EQ(fs_.setattr(alice_, 999999, with_mode(0600)).status(), Status::kStale);
}

TEST_F(VfsStoreFileSystem, SetattrChown) {
  InodeId f = mkfile(alice_, pub_, "f");
  SetAttributes give;
  give.uid = bob_.uid;
  EXPECT_EQ(fs_.setattr(alice_, f, give).status(), Status::kPerm);
  SetAttributes grp;
  grp.gid = 2001;
  EXPECT_EQ(fs_.setattr(alice_, f, grp).status(), Status::kPerm);  // not alice's group
  EXPECT_EQ(fs_.setattr(eve_, f, grp).status(), Status::kPerm);    // not eve's file
  ASSERT_TRUE(fs_.setattr(root_, f, give).ok());
  EXPECT_EQ(attrs(f).uid, bob_.uid);

  InodeId g = mkfile(eve_, pub_, "g");
  auto r = fs_.setattr(eve_, g, grp);  // eve is in 2001
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->gid, 2001u);

  // chown clears set-id bits on files (an explicit mode in the same call wins).
  ASSERT_TRUE(fs_.setattr(root_, g, with_mode(06755)).ok());
  SetAttributes back;
  back.gid = eve_.gid;
  EXPECT_EQ(fs_.setattr(eve_, g, back)->mode, 0755u);
  ASSERT_TRUE(fs_.setattr(root_, g, with_mode(06755)).ok());
  SetAttributes both = back;
  both.mode = 06750;
  EXPECT_EQ(fs_.setattr(root_, g, both)->mode, 06750u);
}

TEST_F(VfsStoreFileSystem, SetattrSize) {
  InodeId f = mkfile(alice_, pub_, "f");
  write_str(f, 0, "0123456789");
  SetAttributes shrink;
  shrink.size = 4;
  Attributes before = attrs(f);
  auto r = fs_.setattr(alice_, f, shrink);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size, 4u);
  EXPECT_GE(r->mtime, before.mtime);
  EXPECT_GT(r->change, before.change);
  EXPECT_EQ(read_str(f), "0123");
  SetAttributes grow;
  grow.size = 8;
  ASSERT_TRUE(fs_.setattr(alice_, f, grow).ok());
  EXPECT_EQ(read_str(f), std::string("0123\0\0\0\0", 8));  // old bytes do not come back

  EXPECT_EQ(fs_.setattr(bob_, f, shrink).status(), Status::kAccess);  // 0644: bob can't write
  EXPECT_TRUE(fs_.setattr(root_, f, shrink).ok());
  InodeId d = mkdir(alice_, pub_, "d", 0755);
  EXPECT_EQ(fs_.setattr(alice_, d, shrink).status(), Status::kIsDir);
  InodeId l = mklink(alice_, pub_, "l", "f");
  EXPECT_EQ(fs_.setattr(alice_, l, shrink).status(), Status::kInval);
  SetAttributes huge;
  huge.size = kMaxFileSize + 1;
  EXPECT_EQ(fs_.setattr(alice_, f, huge).status(), Status::kFBig);

  // A refused request changes nothing, even the parts that were allowed.
  SetAttributes mixed;
  mixed.size = 0;
  mixed.mode = 0600;
  EXPECT_EQ(fs_.setattr(alice_, d, mixed).status(), Status::kIsDir);
  EXPECT_EQ(attrs(d).mode, 0755u);
}

TEST_F(VfsStoreFileSystem, SetattrTimes) {
  InodeId f = mkfile(alice_, pub_, "f", 0666);
  InodeId ro = mkfile(alice_, pub_, "ro", 0644);
  SetAttributes explicit_t;
  explicit_t.atime_how = TimeHow::kClientTime;
  explicit_t.atime = Timespec{100, 1};
  explicit_t.mtime_how = TimeHow::kClientTime;
  explicit_t.mtime = Timespec{200, 2};
  auto r = fs_.setattr(alice_, f, explicit_t);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->atime, (Timespec{100, 1}));
  EXPECT_EQ(r->mtime, (Timespec{200, 2}));
  EXPECT_GT(r->ctime, (Timespec{200, 2}));  // ctime is always "now"
  EXPECT_EQ(fs_.setattr(bob_, f, explicit_t).status(), Status::kPerm);

  SetAttributes server_t;
  server_t.mtime_how = TimeHow::kServerTime;
  auto s = fs_.setattr(bob_, f, server_t);  // bob may write f: may touch it
  ASSERT_TRUE(s.ok());
  EXPECT_GT(s->mtime, (Timespec{200, 2}));
  EXPECT_EQ(s->atime, (Timespec{100, 1}));
  EXPECT_EQ(fs_.setattr(bob_, ro, server_t).status(), Status::kAccess);
}

TEST_F(VfsStoreFileSystem, SetattrGuardAndEmpty) {
  InodeId f = mkfile(alice_, pub_, "f");
  Attributes a = attrs(f);
  Timespec wrong = a.ctime;
  wrong.nsec = (wrong.nsec + 1) % 1000000000;
  EXPECT_EQ(fs_.setattr(alice_, f, with_mode(0600), wrong).status(), Status::kNotSame);
  EXPECT_EQ(attrs(f).mode, 0644u);
  auto ok = fs_.setattr(alice_, f, with_mode(0600), a.ctime);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->mode, 0600u);
  // The old ctime no longer matches.
  EXPECT_EQ(fs_.setattr(alice_, f, with_mode(0644), a.ctime).status(), Status::kNotSame);
  // An empty request changes nothing.
  Attributes now_a = attrs(f);
  auto e = fs_.setattr(bob_, f, SetAttributes{});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->change, now_a.change);
}

// ---- readdir ------------------------------------------------------------------------------

TEST_F(VfsStoreFileSystem, ReaddirListsEntriesWithAttributes) {
  InodeId d = mkdir(alice_, pub_, "d", 0755);
  InodeId a = mkfile(alice_, d, "a");
  write_str(a, 0, "12345");
  mkdir(alice_, d, "sub", 0700);
  auto l = fs_.readdir(bob_, d, 0, 100);
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->eof);
  ASSERT_EQ(l->entries.size(), 2u);
  EXPECT_EQ(l->entries[0].entry.name, "a");
  EXPECT_EQ(l->entries[0].entry.id, a);
  EXPECT_GE(l->entries[0].entry.cookie, 3u);
  EXPECT_EQ(l->entries[0].attrs.size, 5u);
  EXPECT_EQ(l->entries[1].attrs.type, FileType::kDirectory);
  EXPECT_GT(l->entries[1].entry.cookie, l->entries[0].entry.cookie);

  auto empty = fs_.readdir(alice_, mkdir(alice_, pub_, "e", 0755), 0, 10);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->entries.empty());
  EXPECT_TRUE(empty->eof);
}

TEST_F(VfsStoreFileSystem, ReaddirPagesAndResumesAfterDeletions) {
  InodeId d = mkdir(alice_, pub_, "d", 0755);
  for (int i = 0; i < 10; ++i)
    mkfile(alice_, d, "f" + std::to_string(i));
  auto p1 = fs_.readdir(alice_, d, 0, 4);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->entries.size(), 4u);
  EXPECT_FALSE(p1->eof);
  uint64_t resume = p1->entries.back().entry.cookie;
  // Delete the entry the cookie belongs to and the one after it: listing continues.
  ASSERT_TRUE(fs_.remove(alice_, d, "f3").ok());
  ASSERT_TRUE(fs_.remove(alice_, d, "f4").ok());
  auto p2 = fs_.readdir(alice_, d, resume, 4);
  ASSERT_TRUE(p2.ok());
  ASSERT_EQ(p2->entries.size(), 4u);
  EXPECT_EQ(p2->entries[0].entry.name, "f5");
  EXPECT_FALSE(p2->eof);
  auto p3 = fs_.readdir(alice_, d, p2->entries.back().entry.cookie, 4);
  ASSERT_TRUE(p3.ok());
  ASSERT_EQ(p3->entries.size(), 1u);
  EXPECT_EQ(p3->entries[0].entry.name, "f9");
  EXPECT_TRUE(p3->eof);
  // Exactly filling a page reports eof when nothing follows.
  auto exact = fs_.readdir(alice_, d, p2->entries.back().entry.cookie, 1);
  ASSERT_TRUE(exact.ok());
  EXPECT_TRUE(exact->eof);
  // Zero entries requested: nothing returned, eof only if nothing is left.
  auto zero = fs_.readdir(alice_, d, 0, 0);
  ASSERT_TRUE(zero.ok());
  EXPECT_TRUE(zero->entries.empty());
  EXPECT_FALSE(zero->eof);
}

TEST_F(VfsStoreFileSystem, ReaddirErrors) {
  InodeId d = mkdir(alice_, pub_, "d", 0755);
  mkfile(alice_, d, "a");
  EXPECT_EQ(fs_.readdir(alice_, d, 1, 10).status(), Status::kInval);
  EXPECT_EQ(fs_.readdir(alice_, d, 2, 10).status(), Status::kInval);
  EXPECT_EQ(fs_.readdir(alice_, d, 1000, 10).status(), Status::kInval);  // never issued
  InodeId f = mkfile(alice_, pub_, "f");
  EXPECT_EQ(fs_.readdir(alice_, f, 0, 10).status(), Status::kNotDir);
  EXPECT_EQ(fs_.readdir(alice_, 999999, 0, 10).status(), Status::kStale);
  InodeId noread = mkdir(alice_, pub_, "noread", 0311);
  EXPECT_EQ(fs_.readdir(bob_, noread, 0, 10).status(), Status::kAccess);
  EXPECT_TRUE(fs_.readdir(root_, noread, 0, 10).ok());
}

// ---- data ---------------------------------------------------------------------------------

TEST_F(VfsStoreFileSystem, ReadWriteRoundTrip) {
  InodeId f = mkfile(alice_, pub_, "f");
  Attributes before = attrs(f);
  auto w = fs_.write(f, 0, bytes("hello"), false);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->count, 5u);
  EXPECT_EQ(w->attrs.size, 5u);
  EXPECT_GT(w->attrs.change, before.change);
  EXPECT_GE(w->attrs.mtime, before.mtime);
  EXPECT_GT(w->attrs.space_used, 0u);
  write_str(f, 5, " world");
  EXPECT_EQ(attrs(f).size, 11u);

  auto r = fs_.read(f, 0, 100);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(text(*r), "hello world");
  EXPECT_TRUE(r->eof);
  auto part = fs_.read(f, 0, 5);
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(text(*part), "hello");
  EXPECT_FALSE(part->eof);
  auto tail = fs_.read(f, 6, 5);
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(text(*tail), "world");
  EXPECT_TRUE(tail->eof);  // offset + count reaches the size
  auto past = fs_.read(f, 100, 5);
  ASSERT_TRUE(past.ok());
  EXPECT_EQ(text(*past), "");
  EXPECT_TRUE(past->eof);

  // Overwrite in the middle keeps the size.
  write_str(f, 2, "LL");
  EXPECT_EQ(read_str(f), "heLLo world");
  EXPECT_EQ(attrs(f).size, 11u);
}

TEST_F(VfsStoreFileSystem, SparseWriteReadsZerosInTheHole) {
  InodeId f = mkfile(alice_, pub_, "f");
  const uint64_t far = 3 * MemoryBlockStore::kChunkSize + 17;
  write_str(f, far, "end");
  EXPECT_EQ(attrs(f).size, far + 3);
  std::string all = read_str(f, 0, far + 3);
  ASSERT_EQ(all.size(), far + 3);
  EXPECT_EQ(all.substr(0, far), std::string(far, '\0'));
  EXPECT_EQ(all.substr(far), "end");
  // A hole takes no space.
  EXPECT_LT(attrs(f).space_used, MemoryBlockStore::kChunkSize);
}

TEST_F(VfsStoreFileSystem, DataErrors) {
  InodeId f = mkfile(alice_, pub_, "f");
  EXPECT_EQ(fs_.read(pub_, 0, 10).status(), Status::kIsDir);
  EXPECT_EQ(fs_.write(pub_, 0, bytes("x"), false).status(), Status::kIsDir);
  EXPECT_EQ(fs_.read(999999, 0, 10).status(), Status::kStale);
  EXPECT_EQ(fs_.write(999999, 0, bytes("x"), false).status(), Status::kStale);
  EXPECT_EQ(fs_.write(f, kMaxFileSize, bytes("x"), false).status(), Status::kFBig);
  EXPECT_EQ(fs_.write(f, kMaxFileSize - 1, bytes("xy"), false).status(), Status::kFBig);
  EXPECT_EQ(fs_.write(f, UINT64_MAX, bytes("x"), false).status(), Status::kFBig);
  EXPECT_TRUE(fs_.write(f, kMaxFileSize - 1, bytes("x"), false).ok());
  EXPECT_EQ(attrs(f).size, kMaxFileSize);
  // A zero-length write changes nothing.
  uint64_t change = attrs(f).change;
  auto w = fs_.write(f, 0, {}, false);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->count, 0u);
  EXPECT_EQ(attrs(f).change, change);
  EXPECT_EQ(fs_.commit(f), Status::kOk);
  EXPECT_EQ(fs_.commit(999999), Status::kStale);
  EXPECT_TRUE(fs_.write(f, 0, bytes("sync"), true).ok());
}

TEST_F(VfsStoreFileSystem, ReadHeldAcrossOverwriteIsUnchanged) {
  InodeId f = mkfile(alice_, pub_, "f");
  write_str(f, 0, "original");
  auto held = fs_.read(f, 0, 100);
  ASSERT_TRUE(held.ok());
  write_str(f, 0, "CHANGED!");
  EXPECT_EQ(text(*held), "original");
  EXPECT_EQ(read_str(f), "CHANGED!");
}

TEST_F(VfsStoreFileSystem, ChangeAttributeStrictlyIncreases) {
  InodeId f = mkfile(alice_, pub_, "f");
  std::vector<uint64_t> seen{attrs(f).change};
  write_str(f, 0, "a");
  seen.push_back(attrs(f).change);
  write_str(f, 0, "b");
  seen.push_back(attrs(f).change);
  ASSERT_TRUE(fs_.setattr(alice_, f, with_mode(0600)).ok());
  seen.push_back(attrs(f).change);
  ASSERT_TRUE(fs_.link(alice_, f, pub_, "g").ok());
  seen.push_back(attrs(f).change);
  ASSERT_TRUE(fs_.rename(alice_, pub_, "g", pub_, "h").ok());
  seen.push_back(attrs(f).change);
  for (size_t i = 1; i < seen.size(); ++i)
    EXPECT_GT(seen[i], seen[i - 1]) << i;
}

// ---- statfs and read-only -----------------------------------------------------------------

TEST_F(VfsStoreFileSystem, Statfs) {
  FsStats s0 = ok(fs_.statfs());
  EXPECT_EQ(s0.bytes_total, StoreFileSystem::kDefaultCapacity);
  EXPECT_EQ(s0.bytes_free, s0.bytes_total);
  EXPECT_EQ(s0.files_total, StoreFileSystem::kFilesTotal);
  EXPECT_EQ(s0.files_free, s0.files_total - ok(meta_->inode_count()));
  InodeId f = mkfile(alice_, pub_, "f");
  write_str(f, 0, std::string(100000, 'x'));
  FsStats s1 = ok(fs_.statfs());
  EXPECT_EQ(s1.bytes_total - s1.bytes_free, blocks_->total_bytes_used());
  EXPECT_GE(s1.bytes_total - s1.bytes_free, 100000u);
  EXPECT_EQ(s1.bytes_avail, s1.bytes_free);
  EXPECT_EQ(s1.files_free, s0.files_free - 1);

  StoreFileSystem small(7, meta_, blocks_, false, uint64_t{1000});
  FsStats s2 = ok(small.statfs());
  EXPECT_EQ(s2.bytes_total, 1000u);
  EXPECT_EQ(s2.bytes_free, 0u);  // more used than the capacity: clamped
}

TEST_F(VfsStoreFileSystem, ReadOnlyRefusesEveryMutation) {
  InodeId f = mkfile(alice_, pub_, "f");
  write_str(f, 0, "data");
  StoreFileSystem ro(43, meta_, blocks_, true);
  EXPECT_TRUE(ro.read_only());
  EXPECT_EQ(ro.root(), root_dir_);
  NewNode d;
  d.type = FileType::kDirectory;
  EXPECT_EQ(ro.create_file(root_, pub_, "x", CreateMode::kGuarded, {}).status(), Status::kRoFs);
  EXPECT_EQ(ro.create_node(root_, pub_, "x", d).status(), Status::kRoFs);
  EXPECT_EQ(ro.remove(root_, pub_, "f").status(), Status::kRoFs);
  EXPECT_EQ(ro.rename(root_, pub_, "f", pub_, "g").status(), Status::kRoFs);
  EXPECT_EQ(ro.link(root_, f, pub_, "g").status(), Status::kRoFs);
  EXPECT_EQ(ro.setattr(root_, f, with_mode(0600)).status(), Status::kRoFs);
  EXPECT_EQ(ro.write(f, 0, bytes("x"), false).status(), Status::kRoFs);
  // Reads work.
  EXPECT_EQ(*ro.lookup(alice_, pub_, "f"), f);
  auto r = ro.read(f, 0, 10);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(text(*r), "data");
  EXPECT_TRUE(ro.readdir(alice_, pub_, 0, 10).ok());
  EXPECT_TRUE(ro.getattr(f).ok());
  EXPECT_EQ(*ro.access(alice_, f, kAccessRead | kAccessWrite), kAccessRead);
  EXPECT_EQ(*ro.access(root_, pub_, kAccessWrite | kAccessExecute), kAccessExecute);
  EXPECT_TRUE(ro.setattr(root_, f, SetAttributes{}).ok());  // nothing to change
  EXPECT_EQ(attrs(f).mode, 0644u);
}

// ---- concurrency --------------------------------------------------------------------------

TEST_F(VfsStoreFileSystem, ConcurrentWritesKeepSizeConsistent) {
  InodeId f = mkfile(alice_, pub_, "f");
  constexpr int kThreads = 4;
  constexpr int kWrites = 200;
  constexpr size_t kBlock = 1000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string block(kBlock, static_cast<char>('a' + t));
      for (int i = 0; i < kWrites; ++i) {
        // Interleaved blocks: the last one decides the size.
        uint64_t off = (static_cast<uint64_t>(i) * kThreads + t) * kBlock;
        auto w = fs_.write(f, off, bytes(block), false);
        EXPECT_TRUE(w.ok());
      }
    });
  }
  // Namespace changes run alongside.
  threads.emplace_back([&] {
    for (int i = 0; i < 100; ++i) {
      std::string n = "n" + std::to_string(i);
      mkfile(bob_, pub_, n);
      EXPECT_TRUE(fs_.link(bob_, *fs_.lookup(bob_, pub_, n), pub_, n + "_l").ok());
      EXPECT_TRUE(fs_.remove(bob_, pub_, n).ok());
    }
  });
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(attrs(f).size, static_cast<uint64_t>(kThreads) * kWrites * kBlock);
  std::string all = read_str(f, 0, kThreads * kWrites * kBlock);
  for (int i = 0; i < kWrites * kThreads; ++i) {
    ASSERT_EQ(all[static_cast<size_t>(i) * kBlock], static_cast<char>('a' + i % kThreads)) << i;
  }
  EXPECT_EQ(names(pub_).size(), 101u);  // f + 100 links
}

// WRITEs take their file's stripe shared, so a stream of them from several clients could keep
// it held for ever; a truncation (exclusive) must still get its turn within a bound, and the
// WRITEs after it extend the file again from its new size.
TEST_F(VfsStoreFileSystem, ATruncationGetsItsTurnAmongCeaselessWritesToTheFile) {
  InodeId f = mkfile(alice_, pub_, "f");
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> writes{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 3; ++t) {
    writers.emplace_back([&, t] {
      std::string block(4096, static_cast<char>('a' + t));
      for (uint64_t i = 0; !stop.load(); ++i) {
        EXPECT_TRUE(fs_.write(f, (i % 64) * 4096, bytes(block), false).ok());
        writes.fetch_add(1);
      }
    });
  }
  auto flowing = std::async(std::launch::async, [&] {
    while (writes.load() < 2000 && !stop.load())
      std::this_thread::yield();
  });
  EXPECT_EQ(flowing.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  auto truncated = std::async(std::launch::async, [&] {
    SetAttributes set;
    set.size = 0;
    return fs_.setattr(alice_, f, set).ok();
  });
  const bool in_time = truncated.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  const uint64_t before_stop = writes.load();
  stop = true;
  for (auto& th : writers)
    th.join();
  EXPECT_TRUE(in_time) << "the truncation waited over 10 s behind WRITEs";
  EXPECT_TRUE(truncated.get());
  EXPECT_GT(before_stop, 2000u);
  EXPECT_LE(attrs(f).size, 64u * 4096);
}

// Creates, removes, links and renames of a few names in a few directories from several
// threads at once, the names colliding on purpose: afterwards every entry names a live inode,
// every link count matches the entries that name the inode, every directory's count matches
// its subdirectories, and no record is left that no entry reaches (nothing is open).
TEST_F(VfsStoreFileSystem, ConcurrentNamespaceChangesKeepLinksConsistent) {
  constexpr int kDirs = 2;
  constexpr int kNames = 3;
  constexpr int kOps = 5000;
  std::vector<InodeId> dirs;
  for (int i = 0; i < kDirs; ++i)
    dirs.push_back(mkdir(alice_, pub_, "d" + std::to_string(i), 0777));
  auto name = [](std::mt19937& rng) { return "e" + std::to_string(rng() % kNames); };
  auto dir = [&](std::mt19937& rng) { return dirs[rng() % kDirs]; };

  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(1234 + t);
      for (int i = 0; i < kOps; ++i) {
        InodeId d = dir(rng);
        switch (rng() % 6) {
          case 0:
          case 1:
            (void)fs_.create_file(alice_, d, name(rng), CreateMode::kUnchecked, {});
            break;
          case 2:
            (void)fs_.remove(alice_, d, name(rng));
            break;
          case 3: {
            auto f = fs_.lookup(alice_, d, name(rng));
            if (f.ok()) (void)fs_.link(alice_, *f, dir(rng), name(rng));
            break;
          }
          case 4:
            (void)fs_.rename(alice_, d, name(rng), dir(rng), name(rng));
            break;
          case 5: {
            // Directories come and go too, and move between the parents.
            NewNode n;
            n.type = FileType::kDirectory;
            n.attrs.mode = 0777;
            if (rng() % 2 == 0) {
              (void)fs_.create_node(alice_, d, "sub" + std::to_string(rng() % 2), n);
            } else {
              (void)fs_.rename(alice_, d, "sub" + std::to_string(rng() % 2), dir(rng),
                               "sub" + std::to_string(rng() % 2));
            }
            break;
          }
        }
      }
    });
  }
  for (auto& th : threads)
    th.join();

  // Walk the tree from the root, counting the entries that name each inode.
  std::map<InodeId, uint32_t> named;
  std::map<InodeId, uint32_t> subdirs;
  std::vector<InodeId> todo{root_dir_};
  while (!todo.empty()) {
    InodeId d = todo.back();
    todo.pop_back();
    auto listing = fs_.readdir(root_, d, 0, SIZE_MAX);
    ASSERT_TRUE(listing.ok());
    for (const auto& e : listing->entries) {
      auto a = fs_.getattr(e.entry.id);
      ASSERT_TRUE(a.ok()) << e.entry.name << " names a missing inode";
      ++named[e.entry.id];
      if (a->type == FileType::kDirectory) {
        ++subdirs[d];
        EXPECT_EQ(*fs_.parent(e.entry.id), d) << e.entry.name;
        todo.push_back(e.entry.id);
      }
    }
  }
  for (const auto& [id, count] : named) {
    Attributes a = attrs(id);
    if (a.type == FileType::kDirectory) {
      EXPECT_EQ(count, 1u) << "directory " << id << " has more than one name";
      EXPECT_EQ(a.nlink, 2 + subdirs[id]) << "directory " << id;
    } else {
      EXPECT_EQ(a.nlink, count) << "file " << id;
    }
  }
  EXPECT_EQ(attrs(root_dir_).nlink, 2 + subdirs[root_dir_]);
  EXPECT_EQ(ok(meta_->inode_count()), named.size() + 1) << "records no entry reaches";
}

}  // namespace
}  // namespace dfs::vfs
