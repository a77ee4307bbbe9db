// dfsctl's table of NFS settings: the flag <-> field names, the value parsing, and that the
// table matches the server's own list of fields (so a new server field cannot be forgotten).

#include <gtest/gtest.h>

#include <set>

#include "cli/errors.h"
#include "cli/settings_fields.h"
#include "control/settings_model.h"

namespace dfs::cli {
namespace {

TEST(CliSettingsFields, FlagAndFieldNamesMapBothWays) {
  EXPECT_EQ(flag_for_field("lease_time"), "lease-time");
  EXPECT_EQ(flag_for_field("v4_max_connections_per_session"), "v4-max-connections-per-session");
  EXPECT_EQ(field_for_flag("--lease-time"), "lease_time");
  EXPECT_EQ(field_for_flag("lease-time"), "lease_time");
  EXPECT_EQ(field_for_flag("lease_time"), "lease_time");
  for (const auto& s : nfs_setting_specs()) {
    EXPECT_EQ(field_for_flag("--" + flag_for_field(s.field)), s.field);
  }
}

TEST(CliSettingsFields, FindsSpecsByAnyName) {
  ASSERT_NE(find_setting_spec("--delegations-enabled"), nullptr);
  EXPECT_EQ(find_setting_spec("delegations_enabled")->kind, SettingKind::kBool);
  EXPECT_EQ(find_setting_spec("max-read-size")->kind, SettingKind::kUnsigned);
  EXPECT_EQ(find_setting_spec("no_such_setting"), nullptr);
}

TEST(CliSettingsFields, MatchTheServersFieldsNamesKindsAndRanges) {
  const auto& server = control::nfs_setting_fields();
  const auto& cli = nfs_setting_specs();
  ASSERT_EQ(cli.size(), server.size());
  std::set<std::string> names;
  for (const auto& f : server) {
    SCOPED_TRACE(f.name);
    const SettingSpec* s = find_setting_spec(f.name);
    ASSERT_NE(s, nullptr) << "dfsctl has no flag for the server's setting " << f.name;
    EXPECT_EQ(s->kind == SettingKind::kBool, f.bool_member != nullptr);
    if (s->kind == SettingKind::kUnsigned) {
      EXPECT_EQ(s->min, f.min);
      EXPECT_EQ(s->max, f.max);
    }
    names.insert(f.name);
  }
  EXPECT_EQ(names.size(), cli.size());
}

TEST(CliSettingsFields, ParsesUnsignedValues) {
  const SettingSpec& lease = *find_setting_spec("lease_time");
  EXPECT_EQ(parse_setting_value(lease, "30"), 30);
  EXPECT_EQ(parse_setting_value(lease, "0"), 0);
  // Out of range for the server but a number: the server's message names the range.
  EXPECT_EQ(parse_setting_value(lease, "5"), 5);
  for (const char* bad : {"", "-1", "abc", "1.5", "30s", " 30", "99999999999999999999999"}) {
    SCOPED_TRACE(bad);
    try {
      parse_setting_value(lease, bad);
      FAIL() << "accepted";
    } catch (const CliError& e) {
      EXPECT_EQ(e.exit_code(), kExitUsage);
      EXPECT_NE(std::string(e.what()).find("--lease-time"), std::string::npos) << e.what();
    }
  }
}

TEST(CliSettingsFields, ParsesBooleans) {
  const SettingSpec& d = *find_setting_spec("delegations_enabled");
  for (const char* t : {"true", "TRUE", "yes", "on", "1"})
    EXPECT_EQ(parse_setting_value(d, t), true);
  for (const char* f : {"false", "no", "Off", "0"})
    EXPECT_EQ(parse_setting_value(d, f), false);
  EXPECT_THROW(parse_setting_value(d, "maybe"), CliError);
}

}  // namespace
}  // namespace dfs::cli
