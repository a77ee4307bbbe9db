// Real I/O errors from the durable block store reach the client as NFS4ERR_IO, on that file
// only: the server stays up, other files and clients are served, and the file works again
// once the disk does. The error is the kernel's, not a mock's: the file that holds one
// inode's content is replaced by a directory, so open(2) fails with EISDIR.

#include <filesystem>
#include <string>

#include "nfs4_test_util.h"
#include "server_fixture.h"

namespace dfs::testing {
namespace {

namespace fs = std::filesystem;

class IoErrorTest : public ServerTest {
 protected:
  server::Config initial_config() const override { return root_not_squashed(); }
  // The block-store file of exactly `size` bytes under the share's blocks directory.
  std::string block_file_of_size(uintmax_t size) {
    const std::string dir = data_dir_ + "/shares/export/blocks";
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.is_regular_file() && e.file_size() == size) return e.path();
    }
    return "";
  }
  void write_file(NfsClient& c, const std::string& name, const std::string& content) {
    auto o = c.open_or_throw(c.lookup_path("/export"), name, OPEN4_SHARE_ACCESS_BOTH);
    ASSERT_EQ(c.write(o, 0, to_bytes(content)), NFS4_OK);
    ASSERT_EQ(c.close(o), NFS4_OK);
  }
};

TEST_F(IoErrorTest, BlockStoreErrorIsNfs4errIoForThatFileOnly) {
  const std::string victim(7777, 'v');
  const std::string other(5555, 'o');
  {
    auto c = client();
    write_file(*c, "victim", victim);
    write_file(*c, "other", other);
  }
  // A fresh start, so the store holds no descriptor of the file: the next access opens it.
  start(initial_config());
  const std::string path = block_file_of_size(victim.size());
  ASSERT_FALSE(path.empty());
  fs::remove(path);
  fs::create_directory(path);

  auto c = client();
  Fh dir = c->lookup_path("/export");
  auto v = c->open_or_throw(dir, "victim", OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, false);
  EXPECT_EQ(do_read(*c, v.fh, v.stateid, 0, 100).status, NFS4ERR_IO);
  EXPECT_EQ(do_write(*c, v.fh, v.stateid, 0, to_bytes("new")).status, NFS4ERR_IO);
  EXPECT_EQ(do_write(*c, v.fh, v.stateid, 0, to_bytes("new"), UNSTABLE4).status, NFS4ERR_IO);
  // Its attributes are metadata, which is fine.
  EXPECT_EQ(c->getattr_u64(v.fh, FATTR4_SIZE), victim.size());

  // The same session, another file; and another client.
  auto o = c->open_or_throw(dir, "other", OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, false);
  auto r = do_read(*c, o.fh, o.stateid, 0, 10000);
  ASSERT_EQ(r.status, NFS4_OK);
  EXPECT_EQ(std::string(r.data.begin(), r.data.end()), other);
  auto c2 = client();
  write_file(*c2, "after", "still served");

  // The disk works again: the file can be written and read (its old content is gone with
  // the file the test removed, as it would be with a disk that lost it).
  fs::remove(path);
  auto w = do_write(*c, v.fh, v.stateid, 0, to_bytes("back"));
  ASSERT_EQ(w.status, NFS4_OK);
  auto back = do_read(*c, v.fh, v.stateid, 0, 4);
  ASSERT_EQ(back.status, NFS4_OK);
  EXPECT_EQ(std::string(back.data.begin(), back.data.end()), "back");
  EXPECT_EQ(c->close(v), NFS4_OK);
  EXPECT_EQ(c->close(o), NFS4_OK);
}

}  // namespace
}  // namespace dfs::testing
