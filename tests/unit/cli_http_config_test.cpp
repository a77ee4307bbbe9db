// dfsctl's pure pieces around HTTP and the config file: server URL parsing, path-segment
// encoding, and the config store (round trip, mode 0600, damaged files).

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cli/config_store.h"
#include "cli/errors.h"
#include "cli/http_client.h"

namespace dfs::cli {
namespace {

TEST(CliServerUrl, AcceptsHttpAndHttpsWithOptionalPortAndPrefix) {
  auto u = parse_server_url("http://127.0.0.1:8080");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->authority, "127.0.0.1:8080");
  EXPECT_EQ(u->prefix, "");
  EXPECT_EQ(u->str(), "http://127.0.0.1:8080");

  u = parse_server_url("HTTPS://dfs.example.com/control/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->origin(), "https://dfs.example.com");
  EXPECT_EQ(u->prefix, "/control");
  EXPECT_EQ(u->str(), "https://dfs.example.com/control");

  u = parse_server_url("http://[::1]:8080/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->authority, "[::1]:8080");
  EXPECT_EQ(u->prefix, "");
}

TEST(CliServerUrl, RejectsOtherShapes) {
  for (const char* bad :
       {"127.0.0.1:8080", "ftp://host", "http://", "http://host:", "http://host:x",
        "http://host:99999", "http://user@host", "http://host/a?b", "http://:80"}) {
    EXPECT_FALSE(parse_server_url(bad)) << bad;
  }
}

TEST(CliServerUrl, ClientRefusesABadUrlAsAUsageError) {
  try {
    ApiClient c("nonsense");
    FAIL();
  } catch (const CliError& e) {
    EXPECT_EQ(e.exit_code(), kExitUsage);
  }
}

TEST(CliPathSegment, EncodesEverythingButUnreserved) {
  EXPECT_EQ(encode_path_segment("ann.b-c_d~"), "ann.b-c_d~");
  EXPECT_EQ(encode_path_segment("a/b"), "a%2Fb");
  EXPECT_EQ(encode_path_segment("../x?y#z"), "..%2Fx%3Fy%23z");
  EXPECT_EQ(encode_path_segment("a b%"), "a%20b%25");
  EXPECT_EQ(encode_path_segment("ü"), "%C3%BC");
}

class CliConfigStore : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dfsctl-unit.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(CliConfigStore, MissingFileIsNotLoggedIn) {
  EXPECT_FALSE(ConfigStore(dir_ + "/none.json").load());
}

TEST_F(CliConfigStore, SaveCreatesPrivateFileAndDirectoriesAndLoadsBack) {
  const std::string path = dir_ + "/a/b/config.json";
  ConfigStore store(path);
  const mode_t old = umask(0);  // even a permissive umask must not widen the modes
  store.save({"http://127.0.0.1:8080", "admin", "admin", "acc", "ref"});
  umask(old);
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((dir_ + "/a/b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto c = store.load();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->server, "http://127.0.0.1:8080");
  EXPECT_EQ(c->username, "admin");
  EXPECT_EQ(c->access_token, "acc");
  EXPECT_EQ(c->refresh_token, "ref");
  EXPECT_TRUE(c->logged_in());
}

TEST_F(CliConfigStore, SaveTightensAnExistingLooseFile) {
  const std::string path = dir_ + "/config.json";
  std::ofstream(path) << "{}";
  chmod(path.c_str(), 0644);
  ConfigStore(path).save({"http://h:1", "u", "user", "a", "r"});
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(CliConfigStore, LoggedOutConfigKeepsServer) {
  ConfigStore store(dir_ + "/c.json");
  store.save({"http://h:1", "u", "", "", ""});
  auto c = store.load();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->server, "http://h:1");
  EXPECT_FALSE(c->logged_in());
}

TEST_F(CliConfigStore, DamagedFileIsAnError) {
  const std::string path = dir_ + "/config.json";
  std::ofstream(path) << "not json";
  try {
    ConfigStore(path).load();
    FAIL();
  } catch (const CliError& e) {
    EXPECT_EQ(e.exit_code(), kExitApi);
    EXPECT_NE(std::string(e.what()).find("dfsctl login"), std::string::npos);
  }
}

TEST(CliConfigPath, FollowsXdgThenHome) {
  const char* old_xdg = std::getenv("XDG_CONFIG_HOME");
  const char* old_home = std::getenv("HOME");
  const std::string saved_xdg = old_xdg ? old_xdg : "";
  const std::string saved_home = old_home ? old_home : "";
  setenv("XDG_CONFIG_HOME", "/x/cfg", 1);
  EXPECT_EQ(default_config_path(), "/x/cfg/dfsctl/config.json");
  setenv("XDG_CONFIG_HOME", "relative", 1);  // invalid per the XDG spec: ignored
  setenv("HOME", "/home/ann", 1);
  EXPECT_EQ(default_config_path(), "/home/ann/.config/dfsctl/config.json");
  unsetenv("XDG_CONFIG_HOME");
  EXPECT_EQ(default_config_path(), "/home/ann/.config/dfsctl/config.json");
  if (old_xdg) setenv("XDG_CONFIG_HOME", saved_xdg.c_str(), 1);
  if (old_home)
    setenv("HOME", saved_home.c_str(), 1);
  else
    unsetenv("HOME");
}

}  // namespace
}  // namespace dfs::cli
