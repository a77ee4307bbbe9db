// The start-up lines that say who may mount each share and how to change it.

#include <gtest/gtest.h>

#include "server/exposure.h"

namespace dfs::server {
namespace {

TEST(ServerExposure, SaysWhoMayMountEachShare) {
  control::ShareRecord open;
  open.path = "/export";
  control::ShareRecord closed;
  closed.path = "/team";
  closed.read_only = true;
  closed.all_squash = true;
  closed.anon_uid = 1234;
  closed.anon_gid = 5678;
  closed.allowed_hosts = {"10.0.0.0/8", "::1"};
  closed.allowed_users = {"ann"};
  control::ShareRecord trusting;
  trusting.path = "/root";
  trusting.root_squash = false;
  auto lines = who_may_mount({open, closed, trusting}, {"0.0.0.0:12049"});
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0],
            "share /export: any host reaching 0.0.0.0:12049 (every address of this host) may "
            "mount it, read-write; root squashed to 65534:65534");
  EXPECT_EQ(lines[1],
            "share /team: only hosts in 10.0.0.0/8, ::1 reaching 0.0.0.0:12049 (every address "
            "of this host) may mount it (users ann only), read-only; every user squashed to "
            "1234:5678");
  EXPECT_EQ(lines[2],
            "share /root: any host reaching 0.0.0.0:12049 (every address of this host) may "
            "mount it, read-write; client root is root (no squashing)");
  // Specific addresses are named as they are.
  auto local = who_may_mount({open}, {"127.0.0.1:2049", "[::1]:2049"});
  EXPECT_EQ(local.at(0),
            "share /export: any host reaching 127.0.0.1:2049, [::1]:2049 may mount it, "
            "read-write; root squashed to 65534:65534");
}

TEST(ServerExposure, NamesTheSettingsThatOpenAShareUp) {
  std::string how = how_to_change_exposure();
  for (const char* key : {"allowed_hosts", "root_squash: false", "all_squash", "listen",
                          "--no-root-squash", "dfsctl share update"}) {
    EXPECT_NE(how.find(key), std::string::npos) << key;
  }
}

}  // namespace
}  // namespace dfs::server
