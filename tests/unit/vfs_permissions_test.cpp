// The POSIX permission rules as a table: each row is a caller, a file and the expected answer.

#include "vfs/permissions.h"

#include <gtest/gtest.h>

#include <vector>

namespace dfs::vfs {
namespace {

const Identity kRoot{0, 0, {}};
const Identity kAlice{1000, 100, {}};      // owner in most rows
const Identity kBob{1001, 100, {}};        // same primary group as the files
const Identity kCarol{1002, 200, {300}};   // another group, supplementary 300
const Identity kNobody{65534, 65534, {}};  // no relation to anything

constexpr uint32_t R = kAccessRead;
constexpr uint32_t W = kAccessWrite;
constexpr uint32_t X = kAccessExecute;

FileMode file(uint32_t mode, uint32_t uid = 1000, uint32_t gid = 100) {
  return FileMode{FileType::kRegular, mode, uid, gid};
}
FileMode dir(uint32_t mode, uint32_t uid = 1000, uint32_t gid = 100) {
  return FileMode{FileType::kDirectory, mode, uid, gid};
}

struct AccessCase {
  const char* what;
  Identity who;
  FileMode f;
  uint32_t requested;
  uint32_t granted;
};

TEST(VfsPermissions, GrantedAccessTable) {
  const std::vector<AccessCase> cases = {
      {"owner rw of 0644", kAlice, file(0644), R | W | X, R | W},
      {"group r of 0644", kBob, file(0644), R | W | X, R},
      {"other r of 0644", kNobody, file(0644), R | W | X, R},
      {"other nothing of 0640", kNobody, file(0640), R | W | X, 0},
      {"group via supplementary", kCarol, file(0070, 1, 300), R | W | X, R | W | X},
      {"owner class is not widened by group", kAlice, file(0077), R | W | X, 0},
      {"group class is not widened by other", kBob, file(0607), R | W | X, 0},
      {"only requested bits are reported", kAlice, file(0777), R, R},
      {"unknown bits ignored", kAlice, file(0777), 0xF0 | R, R},
      {"root rw regardless of mode", kRoot, file(0000), R | W, R | W},
      {"root no x without any x bit", kRoot, file(0666), X, 0},
      {"root x if other x set", kRoot, file(0601), X, X},
      {"root x if group x set", kRoot, file(0610), X, X},
      {"root always searches dirs", kRoot, dir(0000), R | W | X, R | W | X},
      {"owner search on 0700 dir", kAlice, dir(0700), X, X},
      {"other no search on 0700 dir", kNobody, dir(0700), X, 0},
      {"other search on 0711 dir", kNobody, dir(0711), R | X, X},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(granted_access(c.who, c.f, c.requested), c.granted) << c.what;
    EXPECT_EQ(may_access(c.who, c.f, c.requested), c.granted == (c.requested & 7)) << c.what;
  }
}

TEST(VfsPermissions, StickyDeletionTable) {
  struct Case {
    const char* what;
    Identity who;
    FileMode d;
    FileMode victim;
    bool allowed;
  };
  const FileMode sticky = dir(01777, 0, 0);
  const std::vector<Case> cases = {
      {"non-sticky dir: anyone (with write) may delete", kBob, dir(0777, 0, 0), file(0644), true},
      {"sticky: owner of file", kAlice, sticky, file(0644, 1000), true},
      {"sticky: stranger", kBob, sticky, file(0644, 1000), false},
      {"sticky: owner of dir", kCarol, dir(01777, 1002, 0), file(0644, 1000), true},
      {"sticky: root", kRoot, sticky, file(0644, 1000), true},
      {"sticky: group member is not enough", kBob, sticky, file(0664, 1000, 100), false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(may_delete_in(c.who, c.d, c.victim), c.allowed) << c.what;
  }
}

TEST(VfsPermissions, ChmodTable) {
  struct Case {
    const char* what;
    Identity who;
    FileMode f;
    uint32_t requested;
    Status status;
    uint32_t result;
  };
  const std::vector<Case> cases = {
      {"owner may chmod", kAlice, file(0644), 0600, Status::kOk, 0600},
      {"root may chmod", kRoot, file(0644), 04755, Status::kOk, 04755},
      {"stranger may not", kBob, file(0666), 0600, Status::kPerm, 0},
      {"type bits are masked off", kAlice, file(0644), 0100644, Status::kOk, 0644},
      {"owner in group keeps setgid", kAlice, file(0644, 1000, 100), 02755, Status::kOk, 02755},
      {"owner not in group loses setgid", kAlice, file(0644, 1000, 999), 02755, Status::kOk, 0755},
      {"supplementary group keeps setgid", kCarol, file(0644, 1002, 300), 02750, Status::kOk,
       02750},
      {"root keeps setgid in any group", kRoot, file(0644, 1000, 999), 02755, Status::kOk, 02755},
      {"owner may set setuid and sticky", kAlice, file(0644), 05755, Status::kOk, 05755},
  };
  for (const auto& c : cases) {
    uint32_t mode = c.requested;
    EXPECT_EQ(check_chmod(c.who, c.f, mode), c.status) << c.what;
    if (c.status == Status::kOk) {
      EXPECT_EQ(mode, c.result) << c.what;
    }
  }
}

TEST(VfsPermissions, ChownTable) {
  struct Case {
    const char* what;
    Identity who;
    FileMode f;
    std::optional<uint32_t> uid, gid;
    Status status;
  };
  const FileMode f = file(0644, 1000, 100);
  const std::vector<Case> cases = {
      {"root may give away", kRoot, f, 2000, 2000, Status::kOk},
      {"nothing requested", kBob, f, std::nullopt, std::nullopt, Status::kOk},
      {"owner cannot give away", kAlice, f, 1001, std::nullopt, Status::kPerm},
      {"owner may set own uid", kAlice, f, 1000, std::nullopt, Status::kOk},
      {"owner may chgrp to own group", kAlice, file(0644, 1000, 999), std::nullopt, 100,
       Status::kOk},
      {"owner may not chgrp to foreign group", kAlice, f, std::nullopt, 999, Status::kPerm},
      {"owner may keep current group", kAlice, file(0644, 1000, 999), std::nullopt, 999,
       Status::kOk},
      {"supplementary group allowed", kCarol, file(0644, 1002, 200), std::nullopt, 300,
       Status::kOk},
      {"non-owner may not chgrp even to own group", kBob, f, std::nullopt, 100, Status::kPerm},
      {"non-owner may not chown", kBob, f, 1001, std::nullopt, Status::kPerm},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(check_chown(c.who, c.f, c.uid, c.gid), c.status) << c.what;
  }
}

TEST(VfsPermissions, ModeAfterChownClearsSetIdOnNonDirectories) {
  EXPECT_EQ(mode_after_chown(file(06755)), 0755u);
  // setgid without group execute marks mandatory locking, not privilege: kept
  EXPECT_EQ(mode_after_chown(file(06745)), 02745u);
  EXPECT_EQ(mode_after_chown(file(01755)), 01755u);
  EXPECT_EQ(mode_after_chown(dir(06755)), 06755u);  // directories keep setgid
}

TEST(VfsPermissions, ModeAfterWriteClearsSetIdForNonRoot) {
  EXPECT_EQ(mode_after_write(kAlice, file(06755)), 0755u);
  EXPECT_EQ(mode_after_write(kAlice, file(06745)), 02745u);
  EXPECT_EQ(mode_after_write(kRoot, file(06755)), 06755u);
  EXPECT_EQ(mode_after_write(kAlice, file(0644)), 0644u);
}

TEST(VfsPermissions, UtimesTable) {
  struct Case {
    const char* what;
    Identity who;
    FileMode f;
    bool explicit_times;
    Status status;
  };
  const std::vector<Case> cases = {
      {"owner explicit", kAlice, file(0444), true, Status::kOk},
      {"root explicit", kRoot, file(0000), true, Status::kOk},
      {"writer explicit is EPERM", kBob, file(0666), true, Status::kPerm},
      {"writer to now", kBob, file(0666), false, Status::kOk},
      {"group writer to now", kBob, file(0660), false, Status::kOk},
      {"reader to now is EACCES", kBob, file(0644), false, Status::kAccess},
      {"stranger to now is EACCES", kNobody, file(0640), false, Status::kAccess},
      {"owner to now without write bit", kAlice, file(0444), false, Status::kOk},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(check_utimes(c.who, c.f, c.explicit_times), c.status) << c.what;
  }
}

TEST(VfsPermissions, NewNodeGidFollowsSetgidParent) {
  EXPECT_EQ(new_node_gid(kAlice, dir(0755, 0, 555)), 100u);
  EXPECT_EQ(new_node_gid(kAlice, dir(02755, 0, 555)), 555u);
}

}  // namespace
}  // namespace dfs::vfs
