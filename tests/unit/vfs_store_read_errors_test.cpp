// A metadata store whose reads fail (a disk or database server that stops answering): every
// FileSystem call answers the store's kIo, never mistakes it for "no such file" (kStale,
// kNoEnt) or "empty", changes nothing, and works again once the store does. The failing store
// is a wrapper around the memory store: this is a unit test of StoreFileSystem's error paths;
// the end-to-end evidence with a real failing disk is in io_error_test and crash_test.

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "store_results.h"
#include "vfs/block/memory_store.h"
#include "vfs/metadata/memory_store.h"
#include "vfs/store_file_system.h"

namespace dfs::vfs {
namespace {

// Forwards to a memory store, except the read calls named in `failing`, which answer kIo.
class FailingReadsStore final : public MetadataStore {
 public:
  std::set<std::string> failing;

  InodeId root() override { return inner_.root(); }
  Result<InodeRecord> get(InodeId id) override {
    if (fails("get")) return Status::kIo;
    return inner_.get(id);
  }
  Result<std::vector<std::optional<InodeRecord>>> get_many(std::span<const InodeId> ids) override {
    if (fails("get_many")) return Status::kIo;
    return inner_.get_many(ids);
  }
  Result<InodeId> lookup(InodeId dir, std::string_view name) override {
    if (fails("lookup")) return Status::kIo;
    return inner_.lookup(dir, name);
  }
  Result<std::vector<DirEntry>> list(InodeId dir, uint64_t after, size_t max) override {
    if (fails("list")) return Status::kIo;
    return inner_.list(dir, after, max);
  }
  Result<bool> is_empty_dir(InodeId dir) override {
    if (fails("is_empty_dir")) return Status::kIo;
    return inner_.is_empty_dir(dir);
  }
  Result<bool> valid_cookie(InodeId dir, uint64_t cookie) override {
    if (fails("valid_cookie")) return Status::kIo;
    return inner_.valid_cookie(dir, cookie);
  }
  Result<InodeId> allocate_id() override {
    if (fails("allocate_id")) return Status::kIo;
    return inner_.allocate_id();
  }
  Status apply(const MetadataBatch& batch) override { return inner_.apply(batch); }
  Status put(const InodeRecord& record) override { return inner_.put(record); }
  Result<uint64_t> inode_count() override {
    if (fails("inode_count")) return Status::kIo;
    return inner_.inode_count();
  }
  Status for_each_inode(const std::function<void(const InodeRecord&)>& fn) override {
    return inner_.for_each_inode(fn);
  }

 private:
  bool fails(const char* call) const { return failing.contains(call); }
  MemoryMetadataStore inner_;
};

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

class StoreReadErrors : public ::testing::Test {
 protected:
  const Identity root_{0, 0, {}};
  std::shared_ptr<FailingReadsStore> meta_ = std::make_shared<FailingReadsStore>();
  StoreFileSystem fs_{42, meta_, std::make_shared<MemoryBlockStore>()};
  const InodeId top_ = fs_.root();
  InodeId dir_ = kInvalidInode;   // /d, a directory holding "f"
  InodeId file_ = kInvalidInode;  // /d/f, holding "hello"

  void SetUp() override {
    NewNode n;
    n.type = FileType::kDirectory;
    n.attrs.mode = 0755;
    auto d = fs_.create_node(root_, top_, "d", n);
    ASSERT_TRUE(d.ok());
    dir_ = d->attrs.id;
    auto f = fs_.create_file(root_, dir_, "f", CreateMode::kGuarded, {});
    ASSERT_TRUE(f.ok());
    file_ = f->attrs.id;
    ASSERT_TRUE(fs_.write(file_, 0, bytes("hello"), true).ok());
  }
  // The store answers again: the names are as they were before the failures.
  void expect_tree_unchanged() {
    meta_->failing.clear();
    EXPECT_EQ(found(fs_.lookup(root_, top_, "d")), dir_);
    EXPECT_EQ(found(fs_.lookup(root_, dir_, "f")), file_);
    auto listing = fs_.readdir(root_, dir_, 0, 100);
    ASSERT_TRUE(listing.ok());
    ASSERT_EQ(listing->entries.size(), 1u);
    EXPECT_EQ(listing->entries[0].entry.name, "f");
    EXPECT_EQ(ok(fs_.getattr(file_)).size, 5u);
  }
};

TEST_F(StoreReadErrors, ReadsOfAttributesAndContentAnswerIo) {
  meta_->failing = {"get"};
  EXPECT_EQ(fs_.getattr(file_).status(), Status::kIo);
  EXPECT_EQ(fs_.access(root_, file_, kAccessRead).status(), Status::kIo);
  EXPECT_EQ(fs_.parent(dir_).status(), Status::kIo);
  EXPECT_EQ(fs_.readlink(file_).status(), Status::kIo);
  EXPECT_EQ(fs_.read(file_, 0, 5).status(), Status::kIo);
  EXPECT_EQ(fs_.write(file_, 0, bytes("HELLO"), true).status(), Status::kIo);
  EXPECT_EQ(fs_.write(file_, 0, bytes("HELLO"), false).status(), Status::kIo);
  EXPECT_EQ(fs_.setattr(root_, file_, SetAttributes{}).status(), Status::kIo);
  EXPECT_EQ(fs_.commit(file_), Status::kIo);
  expect_tree_unchanged();
  auto r = fs_.read(file_, 0, 5);
  ASSERT_TRUE(r.ok());
  std::string content;
  for (const auto& p : r->data.pieces)
    content.append(p.bytes.begin(), p.bytes.end());
  EXPECT_EQ(content, "hello");  // the refused writes left the content alone
}

TEST_F(StoreReadErrors, ALookupThatFailsIsNotAMissingName) {
  meta_->failing = {"lookup"};
  EXPECT_EQ(fs_.lookup(root_, dir_, "f").status(), Status::kIo);
  EXPECT_EQ(fs_.lookup(root_, dir_, "absent").status(), Status::kIo);
  // A create that cannot tell whether the name exists must not create it (or a second one).
  EXPECT_EQ(fs_.create_file(root_, dir_, "f", CreateMode::kGuarded, {}).status(), Status::kIo);
  EXPECT_EQ(fs_.create_file(root_, dir_, "g", CreateMode::kUnchecked, {}).status(), Status::kIo);
  NewNode n;
  n.type = FileType::kDirectory;
  EXPECT_EQ(fs_.create_node(root_, dir_, "sub", n).status(), Status::kIo);
  EXPECT_EQ(fs_.remove(root_, dir_, "f").status(), Status::kIo);
  EXPECT_EQ(fs_.rename(root_, dir_, "f", dir_, "g").status(), Status::kIo);
  EXPECT_EQ(fs_.link(root_, file_, dir_, "g").status(), Status::kIo);
  expect_tree_unchanged();
}

TEST_F(StoreReadErrors, AListingThatFailsIsNotAnEmptyDirectory) {
  meta_->failing = {"list"};
  EXPECT_EQ(fs_.readdir(root_, dir_, 0, 100).status(), Status::kIo);
  meta_->failing = {"get_many"};
  EXPECT_EQ(fs_.readdir(root_, dir_, 0, 100).status(), Status::kIo);
  meta_->failing.clear();
  auto first = fs_.readdir(root_, dir_, 0, 100);
  ASSERT_TRUE(first.ok());
  ASSERT_FALSE(first->entries.empty());
  meta_->failing = {"valid_cookie"};
  EXPECT_EQ(fs_.readdir(root_, dir_, first->entries[0].entry.cookie, 100).status(), Status::kIo);
  // rmdir of a directory whose emptiness cannot be read removes nothing.
  meta_->failing = {"is_empty_dir"};
  EXPECT_EQ(fs_.remove(root_, top_, "d").status(), Status::kIo);
  NewNode n;
  n.type = FileType::kDirectory;
  ASSERT_TRUE(fs_.create_node(root_, top_, "e", n).ok());
  EXPECT_EQ(fs_.rename(root_, top_, "e", top_, "d").status(), Status::kIo);
  expect_tree_unchanged();
  EXPECT_TRUE(fs_.lookup(root_, top_, "e").ok());
}

TEST_F(StoreReadErrors, NoInodeIdMeansNoFile) {
  meta_->failing = {"allocate_id"};
  EXPECT_EQ(fs_.create_file(root_, dir_, "new", CreateMode::kGuarded, {}).status(), Status::kIo);
  NewNode n;
  n.type = FileType::kSymlink;
  n.symlink_target = "f";
  EXPECT_EQ(fs_.create_node(root_, dir_, "link", n).status(), Status::kIo);
  // Opening an existing name needs no new id.
  EXPECT_TRUE(fs_.create_file(root_, dir_, "f", CreateMode::kUnchecked, {}).ok());
  expect_tree_unchanged();
  EXPECT_EQ(fs_.lookup(root_, dir_, "new").status(), Status::kNoEnt);
  EXPECT_TRUE(fs_.create_file(root_, dir_, "new", CreateMode::kGuarded, {}).ok());
}

TEST_F(StoreReadErrors, CountsThatCannotBeReadFailStatfs) {
  meta_->failing = {"inode_count"};
  EXPECT_EQ(fs_.statfs().status(), Status::kIo);
  meta_->failing.clear();
  EXPECT_TRUE(fs_.statfs().ok());
}

}  // namespace
}  // namespace dfs::vfs
