#include <gtest/gtest.h>

#include "vfs/squash.h"

namespace dfs::vfs {
namespace {

Identity id(uint32_t uid, uint32_t gid, std::vector<uint32_t> groups) {
  Identity who;
  who.uid = uid;
  who.gid = gid;
  who.groups = std::move(groups);
  return who;
}

TEST(VfsSquash, SharesSquashRootUnlessTold) {
  EXPECT_TRUE(ShareOptions{}.root_squash);
  EXPECT_FALSE(ShareOptions{}.all_squash);
  EXPECT_EQ(ShareOptions{}.anon_uid, 65534u);
  EXPECT_EQ(ShareOptions{}.anon_gid, 65534u);
}

TEST(VfsSquash, RootSquashMapsEachZeroOnItsOwn) {
  ShareOptions o;
  o.anon_uid = 900;
  o.anon_gid = 901;
  Identity r = squash(o, id(0, 0, {0, 10, 0}));
  EXPECT_EQ(r.uid, 900u);
  EXPECT_EQ(r.gid, 901u);
  EXPECT_EQ(r.groups, (std::vector<uint32_t>{901, 10, 901}));
  // Root with another group keeps it; a user with gid 0 keeps the uid.
  r = squash(o, id(0, 50, {}));
  EXPECT_EQ(r.uid, 900u);
  EXPECT_EQ(r.gid, 50u);
  r = squash(o, id(1000, 0, {0, 100}));
  EXPECT_EQ(r.uid, 1000u);
  EXPECT_EQ(r.gid, 901u);
  EXPECT_EQ(r.groups, (std::vector<uint32_t>{901, 100}));
  EXPECT_FALSE(r.in_group(0));
  // Nothing to do for an ordinary user.
  r = squash(o, id(1000, 100, {200}));
  EXPECT_EQ(r.uid, 1000u);
  EXPECT_EQ(r.gid, 100u);
  EXPECT_EQ(r.groups, (std::vector<uint32_t>{200}));
}

TEST(VfsSquash, AllSquashMapsEveryoneAndDropsTheGroupList) {
  ShareOptions o;
  o.all_squash = true;
  o.root_squash = false;  // all_squash does not depend on it
  o.anon_uid = 1234;
  o.anon_gid = 5678;
  for (const auto& who : {id(0, 0, {0}), id(1000, 100, {10, 20})}) {
    Identity r = squash(o, who);
    EXPECT_EQ(r.uid, 1234u);
    EXPECT_EQ(r.gid, 5678u);
    EXPECT_TRUE(r.groups.empty());
  }
}

TEST(VfsSquash, NoSquashingLeavesRootAlone) {
  ShareOptions o;
  o.root_squash = false;
  Identity r = squash(o, id(0, 0, {0}));
  EXPECT_TRUE(r.is_root());
  EXPECT_EQ(r.gid, 0u);
  EXPECT_EQ(r.groups, (std::vector<uint32_t>{0}));
}

TEST(VfsSquash, DescriptionsNameTheAnonIds) {
  ShareOptions o;
  EXPECT_EQ(describe_squash(o), "root squashed to 65534:65534");
  o.all_squash = true;
  o.anon_uid = 7;
  o.anon_gid = 8;
  EXPECT_EQ(describe_squash(o), "every user squashed to 7:8");
  o.all_squash = o.root_squash = false;
  EXPECT_EQ(describe_squash(o), "client root is root (no squashing)");
}

}  // namespace
}  // namespace dfs::vfs
