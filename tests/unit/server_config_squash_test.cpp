// The shares part of the configuration file: squashing keys, anonymous ids and allowed
// hosts, with errors that name the share and the key.

#include <gtest/gtest.h>

#include "config_file_fixture.h"

namespace dfs::server {
namespace {

using ConfigSquashTest = ConfigFileTest;

TEST_F(ConfigSquashTest, EmbeddedDefaultShareSquashesRoot) {
  Config c;
  ASSERT_EQ(c.shares.size(), 1u);
  EXPECT_EQ(c.shares[0].path, "/export");
  EXPECT_TRUE(c.shares[0].root_squash);
  EXPECT_FALSE(c.shares[0].all_squash);
  EXPECT_EQ(c.shares[0].anon_uid, 65534u);
  EXPECT_EQ(c.shares[0].anon_gid, 65534u);
  EXPECT_TRUE(c.shares[0].allowed_hosts.empty());
  // A share the file lists without squash keys squashes root too.
  Config f = load("shares:\n  - path: /data\n");
  EXPECT_TRUE(f.shares.at(0).root_squash);
}

TEST_F(ConfigSquashTest, ShareKeysAreRead) {
  Config c = load(R"(
shares:
  - path: /open
    root_squash: false
  - path: /team
    all_squash: true
    anon_uid: 1234
    anon_gid: 0
    allowed_hosts: [10.0.0.0/8, 192.168.1.5, "fd00::/8"]
)");
  ASSERT_EQ(c.shares.size(), 2u);
  EXPECT_FALSE(c.shares[0].root_squash);
  EXPECT_FALSE(c.shares[0].all_squash);
  EXPECT_TRUE(c.shares[1].root_squash);
  EXPECT_TRUE(c.shares[1].all_squash);
  EXPECT_EQ(c.shares[1].anon_uid, 1234u);
  EXPECT_EQ(c.shares[1].anon_gid, 0u);
  EXPECT_EQ(c.shares[1].allowed_hosts,
            (std::vector<std::string>{"10.0.0.0/8", "192.168.1.5", "fd00::/8"}));
}

TEST_F(ConfigSquashTest, BadValuesNameTheShareAndKey) {
  for (const char* v : {"-1", "4294967295", "4294967296", "1.5", "abc", "[1]"}) {
    std::string err =
        error(std::string("shares:\n  - path: /a\n  - path: /b\n    anon_uid: ") + v + "\n");
    EXPECT_NE(err.find("shares[1].anon_uid must be an integer from 0 to 4294967294"),
              std::string::npos)
        << v << ": " << err;
    EXPECT_NE(err.find(path_), std::string::npos) << err;
  }
  EXPECT_NE(error("shares:\n  - anon_gid: -5\n").find("shares[0].anon_gid"), std::string::npos);
  EXPECT_NE(error("shares:\n  - allowed_hosts: [not-a-host]\n")
                .find("shares[0].allowed_hosts: 'not-a-host' is not an address or CIDR block"),
            std::string::npos);
  EXPECT_FALSE(error("shares:\n  - all_squash: maybe\n").empty());
  // A misspelt key would leave the share with options nobody chose.
  EXPECT_NE(error("shares:\n  - path: /a\n    root_sqaush: false\n")
                .find("shares[0]: unknown key 'root_sqaush'"),
            std::string::npos);
}

}  // namespace
}  // namespace dfs::server
