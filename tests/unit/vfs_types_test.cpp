#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "vfs/types.h"

namespace dfs::vfs {
namespace {

TEST(VfsTypes, NowIsWallClockAndAdvances) {
  Timespec a = now();
  Timespec b = now();
  EXPECT_GT(a.sec, 1600000000);  // after 2020: CLOCK_REALTIME, not a monotonic clock
  EXPECT_LT(a.nsec, 1000000000u);
  EXPECT_LE(a, b);
}

TEST(VfsTypes, InGroupChecksPrimaryAndSupplementary) {
  Identity who{1000, 100, {200, 300}};
  EXPECT_TRUE(who.in_group(100));
  EXPECT_TRUE(who.in_group(200));
  EXPECT_TRUE(who.in_group(300));
  EXPECT_FALSE(who.in_group(400));
  EXPECT_FALSE(who.in_group(1000));  // the uid is not a group
  EXPECT_FALSE(who.is_root());
  EXPECT_TRUE(Identity({0, 0, {}}).is_root());
}

TEST(VfsTypes, EveryStatusHasADistinctName) {
  std::set<std::string> names;
  for (int s = 0; s <= static_cast<int>(Status::kNotSame); ++s) {
    const char* n = to_string(static_cast<Status>(s));
    ASSERT_NE(n, nullptr);
    EXPECT_STRNE(n, "unknown status") << s;
    names.insert(n);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(Status::kNotSame) + 1);
  EXPECT_STREQ(to_string(Status::kOk), "ok");
  EXPECT_STREQ(to_string(Status::kNoEnt), "no such file or directory");
}

TEST(VfsTypes, ResultCarriesValueOrStatus) {
  Result<int> ok(7);
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 7);
  Result<int> bad(Status::kAccess);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status(), Status::kAccess);
}

}  // namespace
}  // namespace dfs::vfs
