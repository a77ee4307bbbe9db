// SpaceFloor: the free space a durable store keeps on its file system.

#include "util/space_floor.h"

#include <gtest/gtest.h>
#include <sys/statvfs.h>

#include <filesystem>

namespace dfs::util {
namespace {

uint64_t disk_size(const std::string& path) {
  struct statvfs vfs {};
  EXPECT_EQ(::statvfs(path.c_str(), &vfs), 0);
  return static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize;
}

TEST(SpaceFloor, AFloorOfZeroAdmitsEverything) {
  const std::string tmp = std::filesystem::temp_directory_path();
  SpaceFloor none(tmp, 0);
  // More than the disk holds: admitted, the write itself finds out.
  EXPECT_TRUE(none.admit(disk_size(tmp) * 2));
  EXPECT_TRUE(none.admit(4096));
}

TEST(SpaceFloor, AFloorAboveTheDiskRefusesAndASmallOneAdmits) {
  const std::string tmp = std::filesystem::temp_directory_path();
  SpaceFloor all(tmp, disk_size(tmp) + 1);
  EXPECT_FALSE(all.admit(4096));
  SpaceFloor small(tmp, 4096);
  EXPECT_TRUE(small.admit(4096));
}

}  // namespace
}  // namespace dfs::util
