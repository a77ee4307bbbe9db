#pragma once
// The NFS adapter settings as the control plane sees them: one descriptor per field (name,
// type, allowed range, whether a change needs a restart), JSON conversion, and validation
// that either accepts a whole change or names the first bad field and changes nothing.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nfs4/settings.h"

namespace dfs::control {

struct SettingField {
  const char* name;
  uint32_t nfs4::Settings::*uint_member;  // null for booleans
  bool nfs4::Settings::*bool_member;      // null for numbers
  uint64_t min;
  uint64_t max;
  bool restart_required;
  const char* help;
};

const std::vector<SettingField>& nfs_setting_fields();
const SettingField* find_setting(const std::string& name);

struct ValidationError {
  std::string field;
  std::string detail;
  std::optional<uint64_t> min, max;
};

nlohmann::json settings_to_json(const nfs4::Settings& s);
// Applies the fields of `changes` (a JSON object) to `s`. With `require_all`, every field
// must be present (PUT). Unknown fields, wrong types and out-of-range values are errors.
std::optional<ValidationError> apply_settings(const nlohmann::json& changes, nfs4::Settings& s,
                                              bool require_all);
// Names of the changed fields that need a restart to take effect.
std::vector<std::string> restart_required(const nfs4::Settings& before,
                                          const nfs4::Settings& after);

}  // namespace dfs::control
