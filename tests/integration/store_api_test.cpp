// Named stores through the REST API: the built-in ones listed, durable stores created in a
// directory of the operator's choice, a share that names them keeping its metadata and its
// content there (over NFS, and again after a restart), removal refused while a share uses a
// store, and bad requests answered with the field named.

#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "api_fixture.h"
#include "nfs4_test_util.h"

namespace dfs::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class StoreApiTest : public ApiServerTest {
 protected:
  void TearDown() override {
    ApiServerTest::TearDown();
    if (!scratch_.empty()) fs::remove_all(scratch_);
  }
  // A directory outside the data directory, as an operator's other disk would be.
  const std::string& scratch() {
    if (scratch_.empty()) {
      char tmpl[] = "/tmp/dfs-store-test.XXXXXX";
      scratch_ = ::mkdtemp(tmpl);
    }
    return scratch_;
  }
  // The regular files under `dir` and their sizes.
  static std::vector<uintmax_t> file_sizes(const std::string& dir) {
    std::vector<uintmax_t> out;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (it->is_regular_file()) out.push_back(it->file_size());
    }
    return out;
  }
  static std::vector<std::string> names(const json& list) {
    std::vector<std::string> out;
    for (const auto& s : list)
      out.push_back(s["name"]);
    return out;
  }

  std::string scratch_;
};

TEST_F(StoreApiTest, BuiltInStoresAreListed) {
  auto [st, meta] = send("GET", "/api/v1/stores/metadata");
  ASSERT_EQ(st, 200) << meta.dump();
  EXPECT_EQ(names(meta), (std::vector<std::string>{"rocksdb", "memory"}));
  EXPECT_EQ(meta[0]["source"], "builtin");
  EXPECT_EQ(meta[0]["type"], "rocksdb");
  EXPECT_EQ(meta[0]["directory"], data_dir_ + "/shares");
  EXPECT_TRUE(meta[1]["directory"].is_null());
  // The default share keeps its data in the built-in durable stores.
  EXPECT_EQ(meta[0]["shares"], json::array({"export"}));
  auto [st2, blocks] = send("GET", "/api/v1/stores/block");
  ASSERT_EQ(st2, 200);
  EXPECT_EQ(names(blocks), (std::vector<std::string>{"fs", "memory"}));
  EXPECT_EQ(blocks[0]["shares"], json::array({"export"}));
  auto [st3, one] = send("GET", "/api/v1/stores/block/memory");
  ASSERT_EQ(st3, 200);
  EXPECT_EQ(one["type"], "memory");
  EXPECT_EQ(one["shares"], json::array());
  EXPECT_EQ(send("GET", "/api/v1/stores/block/nope").first, 404);
}

TEST_F(StoreApiTest, ShareKeepsItsDataInTheNamedStoresAcrossARestart) {
  const std::string meta_dir = scratch() + "/fast";
  const std::string block_dir = scratch() + "/bulk";
  auto [st, meta] = send("POST", "/api/v1/stores/metadata",
                         {{"name", "fast"}, {"type", "rocksdb"}, {"directory", meta_dir}});
  ASSERT_EQ(st, 201) << meta.dump();
  EXPECT_EQ(meta["source"], "api");
  EXPECT_EQ(meta["directory"], meta_dir);
  EXPECT_TRUE(fs::is_directory(meta_dir));  // made when the store is added
  auto [st2, blocks] = send("POST", "/api/v1/stores/block",
                            {{"name", "bulk"}, {"type", "fs"}, {"directory", block_dir}});
  ASSERT_EQ(st2, 201) << blocks.dump();
  auto [st3, share] = send("POST", "/api/v1/shares",
                           {{"name", "team"},
                            {"path", "/team"},
                            {"metadata_store", "fast"},
                            {"block_store", "bulk"},
                            {"root_squash", false}});
  ASSERT_EQ(st3, 201) << share.dump();
  EXPECT_EQ(share["metadata_store"], "fast");
  EXPECT_EQ(share["block_store"], "bulk");

  const std::string content(10000, 'z');
  {
    auto c = client();
    Fh team = c->lookup_path("/team");
    auto o = c->open_or_throw(team, "data.bin", OPEN4_SHARE_ACCESS_BOTH);
    ASSERT_EQ(c->write(o, 0, to_bytes(content)), NFS4_OK);
    ASSERT_EQ(c->close(o), NFS4_OK);
  }
  // The content is a file of its own under the block store's directory, the metadata a
  // RocksDB database under the metadata store's; nothing under the built-in stores' place.
  auto sizes = file_sizes(block_dir + "/team/blocks");
  EXPECT_NE(std::find(sizes.begin(), sizes.end(), content.size()), sizes.end());
  EXPECT_TRUE(fs::exists(meta_dir + "/team/metadata/CURRENT"));
  EXPECT_FALSE(fs::exists(data_dir_ + "/shares/team"));
  auto [st4, listed] = send("GET", "/api/v1/stores/metadata/fast");
  ASSERT_EQ(st4, 200);
  EXPECT_EQ(listed["shares"], json::array({"team"}));

  // Stores and share come back from the control database, and the file with them.
  start(initial_config());
  auto [st5, after] = send("GET", "/api/v1/stores/block/bulk");
  ASSERT_EQ(st5, 200) << after.dump();
  EXPECT_EQ(after["directory"], block_dir);
  auto c = client();
  Fh team = c->lookup_path("/team");
  auto o =
      c->open_or_throw(team, "data.bin", OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, false);
  std::vector<uint8_t> back;
  ASSERT_EQ(c->read(o, 0, 20000, back), NFS4_OK);
  EXPECT_EQ(std::string(back.begin(), back.end()), content);
  c->close(o);
}

TEST_F(StoreApiTest, StoreInUseCannotBeRemoved) {
  ASSERT_EQ(
      send("POST", "/api/v1/stores/metadata", {{"name", "scratch"}, {"type", "memory"}}).first,
      201);
  ASSERT_EQ(send("POST", "/api/v1/shares",
                 {{"name", "tmp"},
                  {"path", "/tmp1"},
                  {"metadata_store", "scratch"},
                  {"block_store", "memory"}})
                .first,
            201);
  auto [st, err] = send("DELETE", "/api/v1/stores/metadata/scratch");
  EXPECT_EQ(st, 409);
  EXPECT_NE(err.dump().find("tmp"), std::string::npos) << err.dump();  // names the share
  ASSERT_EQ(send("DELETE", "/api/v1/shares/tmp").first, 204);
  EXPECT_EQ(send("DELETE", "/api/v1/stores/metadata/scratch").first, 204);
  EXPECT_EQ(send("GET", "/api/v1/stores/metadata/scratch").first, 404);
  EXPECT_EQ(send("DELETE", "/api/v1/stores/metadata/scratch").first, 404);
  // Built-in stores stay.
  EXPECT_EQ(send("DELETE", "/api/v1/stores/block/memory").first, 409);
  EXPECT_EQ(send("DELETE", "/api/v1/stores/metadata/rocksdb").first, 409);
}

TEST_F(StoreApiTest, DurableStoreWithoutDirectoryGoesUnderTheDataDirectory) {
  auto [st, s] = send("POST", "/api/v1/stores/block", {{"name", "b2"}, {"type", "fs"}});
  ASSERT_EQ(st, 201) << s.dump();
  EXPECT_EQ(s["directory"], data_dir_ + "/stores/block/b2");
  EXPECT_TRUE(fs::is_directory(data_dir_ + "/stores/block/b2"));
}

TEST_F(StoreApiTest, ConfigurationFileStoresServeItsShares) {
  server::Config config;
  config.metadata_stores.push_back({"ssd", "rocksdb", scratch() + "/ssd"});
  config.block_stores.push_back({"hdd", "fs", scratch() + "/hdd"});
  config.shares.at(0).metadata_store = "ssd";
  config.shares.at(0).block_store = "hdd";
  config.shares.at(0).root_squash = false;
  start(config);
  admin_token_ = login("admin", admin_pw_);
  auto [st, meta] = send("GET", "/api/v1/stores/metadata/ssd");
  ASSERT_EQ(st, 200) << meta.dump();
  EXPECT_EQ(meta["source"], "config");
  EXPECT_EQ(meta["shares"], json::array({"export"}));
  EXPECT_EQ(send("DELETE", "/api/v1/stores/metadata/ssd").first, 409);
  {
    auto c = client();
    auto o = c->open_or_throw(c->lookup_path("/export"), "f", OPEN4_SHARE_ACCESS_BOTH);
    ASSERT_EQ(c->write(o, 0, to_bytes(std::string(5000, 'q'))), NFS4_OK);
    ASSERT_EQ(c->close(o), NFS4_OK);
  }
  auto sizes = file_sizes(scratch() + "/hdd/export/blocks");
  EXPECT_NE(std::find(sizes.begin(), sizes.end(), 5000u), sizes.end());
  EXPECT_TRUE(fs::exists(scratch() + "/ssd/export/metadata/CURRENT"));

  // A share naming a store nobody defined, or a store of an unknown type, stops the start
  // with a message naming it.
  auto start_error = [&](const server::Config& c) -> std::string {
    try {
      start(c);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  };
  server::Config unknown;
  unknown.shares.at(0).block_store = "tape";
  EXPECT_NE(start_error(unknown).find("tape"), std::string::npos);
  server::Config bad_type;
  bad_type.block_stores.push_back({"t", "tape", scratch() + "/t"});
  EXPECT_NE(start_error(bad_type).find("type"), std::string::npos);
  server::Config no_dir;
  no_dir.metadata_stores.push_back({"nd", "rocksdb", ""});
  EXPECT_NE(start_error(no_dir).find("directory"), std::string::npos);
}

TEST_F(StoreApiTest, BadRequestsNameTheField) {
  auto field = [&](const std::string& kind, const json& body) {
    auto [st, reply] = send("POST", "/api/v1/stores/" + kind, body);
    // A refusal names the field; a created store is shown with its name.
    const char* key = st == 201 ? "name" : "field";
    return std::to_string(st) + " " +
           (reply.is_object() && reply.contains(key) ? reply[key].get<std::string>()
                                                     : reply.dump());
  };
  EXPECT_EQ(field("metadata", {{"name", "x"}, {"type", "fs"}}), "400 type");
  EXPECT_EQ(field("block", {{"name", "x"}, {"type", "rocksdb"}}), "400 type");
  EXPECT_EQ(field("block", {{"name", "x"}}), "400 type");
  EXPECT_EQ(field("block", {{"name", "x"}, {"type", "memory"}, {"directory", scratch()}}),
            "400 directory");
  EXPECT_EQ(field("block", {{"name", "x"}, {"type", "fs"}, {"directory", "relative/dir"}}),
            "400 directory");
  EXPECT_EQ(field("block", {{"name", "x"}, {"type", "fs"}, {"directory", scratch() + "/../x"}}),
            "400 directory");
  // A directory that cannot be made (a file is in the way).
  std::ofstream(scratch() + "/file") << "x";
  EXPECT_EQ(field("block", {{"name", "x"}, {"type", "fs"}, {"directory", scratch() + "/file/d"}}),
            "400 directory");
  EXPECT_EQ(field("block", {{"name", "../x"}, {"type", "memory"}}), "400 name");
  EXPECT_EQ(field("block", {{"name", "x"}, {"type", "memory"}, {"size", 3}}), "400 size");
  EXPECT_EQ(field("block", {{"name", 7}, {"type", "memory"}}), "400 name");
  EXPECT_EQ(field("metadata", {{"name", "rocksdb"}, {"type", "memory"}}), "409 name");
  ASSERT_EQ(field("metadata", {{"name", "m"}, {"type", "memory"}}), "201 m");
  EXPECT_EQ(field("metadata", {{"name", "m"}, {"type", "memory"}}), "409 name");
  // Block and metadata stores are named apart: "m" is free for a block store.
  EXPECT_EQ(field("block", {{"name", "m"}, {"type", "memory"}}), "201 m");
  // A share naming a store that does not exist is refused with the field.
  auto [st, err] =
      send("POST", "/api/v1/shares", {{"name", "s"}, {"path", "/s"}, {"block_store", "nosuch"}});
  EXPECT_EQ(st, 400);
  EXPECT_EQ(err["field"], "block_store");
  EXPECT_EQ(send("GET", "/api/v1/shares/s").first, 404);
  // Only an admin adds or removes stores; operators read them (every GET), users do not.
  ASSERT_EQ(send("POST", "/api/v1/users",
                 {{"username", "olga"}, {"password", "password-olga"}, {"role", "operator"}})
                .first,
            201);
  ASSERT_EQ(send("POST", "/api/v1/users",
                 {{"username", "uma"}, {"password", "password-uma"}, {"role", "user"}})
                .first,
            201);
  auto olga = login("olga", "password-olga");
  EXPECT_EQ(send("GET", "/api/v1/stores/metadata", nullptr, olga).first, 200);
  EXPECT_EQ(send("GET", "/api/v1/stores/block/m", nullptr, olga).first, 200);
  EXPECT_EQ(
      send("POST", "/api/v1/stores/metadata", {{"name", "o"}, {"type", "memory"}}, olga).first,
      403);
  EXPECT_EQ(send("DELETE", "/api/v1/stores/metadata/m", nullptr, olga).first, 403);
  EXPECT_EQ(send("GET", "/api/v1/stores/metadata", nullptr, login("uma", "password-uma")).first,
            403);
}

}  // namespace
}  // namespace dfs::testing
