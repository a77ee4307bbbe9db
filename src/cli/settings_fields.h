#pragma once
// The NFS adapter settings as dfsctl offers them: one row per field of
// /api/v1/adapters/nfs/settings. `adapter settings nfs update` makes one flag per row
// (lease_time -> --lease-time), so a new field is one new line here. The ranges are only for
// --help; the server validates. A unit test keeps this table equal to the server's.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace dfs::cli {

enum class SettingKind { kUnsigned, kBool };

struct SettingSpec {
  const char* field;
  SettingKind kind;
  uint64_t min;
  uint64_t max;
  const char* help;
};

const std::vector<SettingSpec>& nfs_setting_specs();

// "lease_time" -> "lease-time" (no leading dashes).
std::string flag_for_field(std::string_view field);
// "--lease-time", "lease-time" or "lease_time" -> "lease_time".
std::string field_for_flag(std::string_view flag);
// The spec for a field or flag name in any of the forms above, or null.
const SettingSpec* find_setting_spec(std::string_view name);

// The JSON value to send for a flag's text: an unsigned integer, or a boolean from
// true/false (also yes/no, on/off, 1/0). Throws a usage CliError naming the flag otherwise.
// Ranges are left to the server so its message (with the allowed range) is the one shown.
nlohmann::json parse_setting_value(const SettingSpec& spec, std::string_view text);

}  // namespace dfs::cli
