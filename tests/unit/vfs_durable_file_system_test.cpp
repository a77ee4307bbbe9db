// StoreFileSystem over the durable stores (RocksDB metadata, files for content): what a
// restart keeps, what start-up recovery repairs, and when changes reach the disk.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "store_results.h"
#include "vfs/block/fs_store.h"
#include "vfs/metadata/rocksdb_store.h"
#include "vfs/pending_sync.h"
#include "vfs/store_file_system.h"

namespace dfs::vfs {
namespace {

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string text(const ReadResult& r) {
  std::string out;
  for (const auto& p : r.data.pieces)
    out.append(p.bytes.begin(), p.bytes.end());
  return out;
}

class DurableFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = std::filesystem::temp_directory_path() / "dfs-durable.XXXXXX";
    dir_ = ::mkdtemp(tmpl.data());
    open();
  }
  void TearDown() override {
    close();
    std::filesystem::remove_all(dir_);
  }
  void open() {
    meta_ = std::make_shared<RocksDbMetadataStore>(dir_ + "/metadata");
    blocks_ = std::make_shared<FsBlockStore>(dir_ + "/blocks");
    fs_ = std::make_shared<StoreFileSystem>(7, meta_, blocks_);
  }
  // Drops the file system without the last closes it was owed (as a crash would).
  void close() {
    fs_.reset();
    meta_.reset();
    blocks_.reset();
  }
  void restart() {
    close();
    open();
  }
  InodeId create(const std::string& name) {
    auto r = fs_->create_file(root_, fs_->root(), name, CreateMode::kGuarded, {});
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->attrs.id : kInvalidInode;
  }
  std::string dir_;
  Identity root_{0, 0, {}};
  std::shared_ptr<RocksDbMetadataStore> meta_;
  std::shared_ptr<FsBlockStore> blocks_;
  std::shared_ptr<StoreFileSystem> fs_;
};

TEST_F(DurableFileSystemTest, FilesNamesAndHandlesSurviveARestart) {
  InodeId id = create("kept");
  ASSERT_TRUE(fs_->write(id, 0, bytes("hello, disk"), true).ok());
  NewNode dir;
  dir.type = FileType::kDirectory;
  dir.attrs.mode = 0750;
  auto sub = fs_->create_node(root_, fs_->root(), "sub", dir);
  ASSERT_TRUE(sub.ok());
  const auto gen = fs_->getattr(id)->generation;
  restart();
  auto found = fs_->lookup(root_, fs_->root(), "kept");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, id);  // a file handle names the same inode after the restart
  auto attrs = fs_->getattr(id);
  ASSERT_TRUE(attrs.ok());
  EXPECT_EQ(attrs->size, 11u);
  EXPECT_EQ(attrs->generation, gen);
  EXPECT_EQ(text(*fs_->read(id, 0, 100)), "hello, disk");
  EXPECT_EQ(fs_->getattr(sub->attrs.id)->mode, 0750u);
  // A new file after the restart gets a new id and a newer generation.
  InodeId next = create("new");
  EXPECT_GT(next, sub->attrs.id);
  EXPECT_GT(fs_->getattr(next)->generation, gen);
}

TEST_F(DurableFileSystemTest, AFileUnlinkedWhileOpenIsReclaimedAtTheNextStart) {
  InodeId id = create("doomed");
  ASSERT_TRUE(fs_->write(id, 0, bytes("bytes of an unlinked file"), true).ok());
  fs_->retain(id);  // open
  ASSERT_TRUE(fs_->remove(root_, fs_->root(), "doomed").ok());
  EXPECT_TRUE(fs_->getattr(id).ok());  // still readable while open
  EXPECT_GT(*blocks_->stored_length(id), 0u);
  restart();  // the server died before the last close
  EXPECT_EQ(fs_->getattr(id).status(), Status::kStale);
  EXPECT_EQ(*blocks_->stored_length(id), 0u);
  EXPECT_EQ(ok(meta_->inode_count()), 1u);  // the root alone
}

TEST_F(DurableFileSystemTest, RecoveryTrustsTheContentThatReachedTheDisk) {
  InodeId id = create("torn");
  ASSERT_TRUE(fs_->write(id, 0, bytes(std::string(10000, 'x')), true).ok());
  InodeId longer = create("longer");
  ASSERT_TRUE(fs_->write(longer, 0, bytes(std::string(100, 'y')), true).ok());
  close();
  // As if the crash lost the tail of one file's content while its size was kept, and kept
  // bytes past the other's recorded size that were never acknowledged.
  FsBlockStore raw(dir_ + "/blocks");
  ASSERT_EQ(raw.truncate(id, 4096), Status::kOk);
  ASSERT_EQ(raw.write(longer, 100, bytes(std::string(50, 'z'))), Status::kOk);
  open();
  EXPECT_EQ(fs_->getattr(id)->size, 4096u);
  EXPECT_EQ(text(*fs_->read(id, 0, 20000)), std::string(4096, 'x'));
  EXPECT_EQ(fs_->getattr(longer)->size, 100u);
  EXPECT_EQ(*blocks_->stored_length(longer), 100u);
  // Extending it later shows zeros, never the dropped bytes.
  SetAttributes grow;
  grow.size = 150;
  ASSERT_TRUE(fs_->setattr(root_, longer, grow).ok());
  EXPECT_EQ(text(*fs_->read(longer, 100, 50)), std::string(50, '\0'));
}

TEST_F(DurableFileSystemTest, InsideAPendingSyncScopeChangesWaitForTheCallerToSync) {
  const uint64_t syncs = meta_->syncs_done();
  PendingSync pending;
  InodeId id;
  {
    PendingSync::Scope scope(pending);
    id = create("later");
    ASSERT_TRUE(fs_->write(id, 0, bytes("stable"), true).ok());
  }
  EXPECT_EQ(meta_->syncs_done(), syncs);  // nothing synced on the calling thread
  EXPECT_EQ(pending.size(), 2u);          // the file's content, then the metadata
  EXPECT_EQ(pending.run(), Status::kOk);
  EXPECT_EQ(meta_->syncs_done(), syncs + 1);
  // Outside a scope, a change is synced before the call returns.
  create("now");
  EXPECT_EQ(meta_->syncs_done(), syncs + 2);
  // An UNSTABLE write syncs nothing; COMMIT syncs (the content had nothing new: the
  // metadata carries the write's size and times).
  ASSERT_TRUE(fs_->write(id, 6, bytes(" more"), false).ok());
  EXPECT_EQ(meta_->syncs_done(), syncs + 2);
  ASSERT_EQ(fs_->commit(id), Status::kOk);
  EXPECT_EQ(meta_->syncs_done(), syncs + 3);
}

}  // namespace
}  // namespace dfs::vfs
