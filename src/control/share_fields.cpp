#include "control/share_fields.h"

#include <array>
#include <cstdint>
#include <string_view>

namespace dfs::control {
namespace {

ApiError wrong(const std::string& key, const std::string& what) {
  return ApiError{400, key + " must be " + what, key};
}

std::optional<ApiError> read_string(const std::string& key, const nlohmann::json& v,
                                    std::string& out) {
  if (!v.is_string()) return wrong(key, "a string");
  out = v.get<std::string>();
  return std::nullopt;
}

std::optional<ApiError> read_bool(const std::string& key, const nlohmann::json& v, bool& out) {
  if (!v.is_boolean()) return wrong(key, "true or false");
  out = v.get<bool>();
  return std::nullopt;
}

// (uint32_t)-1 is no id: chown reads it as "leave unchanged", so no file could belong to it.
std::optional<ApiError> read_id(const std::string& key, const nlohmann::json& v, uint32_t& out) {
  constexpr uint64_t kMaxId = UINT32_MAX - 1;
  // Parsed JSON keeps non-negative integers unsigned; a negative one is signed.
  bool in_range = v.is_number_integer() && (v.is_number_unsigned() || v.get<int64_t>() >= 0) &&
                  v.get<uint64_t>() <= kMaxId;
  if (!in_range) return wrong(key, "an integer from 0 to 4294967294");
  out = static_cast<uint32_t>(v.get<uint64_t>());
  return std::nullopt;
}

std::optional<ApiError> read_strings(const std::string& key, const nlohmann::json& v,
                                     std::vector<std::string>& out) {
  if (!v.is_array()) return wrong(key, "a list of strings");
  std::vector<std::string> items;
  for (const auto& item : v) {
    if (!item.is_string()) return wrong(key, "a list of strings");
    items.push_back(item.get<std::string>());
  }
  out = std::move(items);
  return std::nullopt;
}

constexpr std::array<std::string_view, 6> kChangeable{
    "root_squash", "all_squash", "anon_uid", "anon_gid", "allowed_hosts", "allowed_users"};

}  // namespace

bool share_field_changeable(const std::string& key) {
  for (auto k : kChangeable) {
    if (k == key) return true;
  }
  return false;
}

std::optional<ApiError> apply_share_field(const std::string& key, const nlohmann::json& value,
                                          ShareRecord& r) {
  if (key == "name") return read_string(key, value, r.name);
  if (key == "path") return read_string(key, value, r.path);
  if (key == "metadata_store") return read_string(key, value, r.metadata_store);
  if (key == "block_store") return read_string(key, value, r.block_store);
  if (key == "read_only") return read_bool(key, value, r.read_only);
  if (key == "root_squash") return read_bool(key, value, r.root_squash);
  if (key == "all_squash") return read_bool(key, value, r.all_squash);
  if (key == "anon_uid") return read_id(key, value, r.anon_uid);
  if (key == "anon_gid") return read_id(key, value, r.anon_gid);
  if (key == "allowed_hosts") return read_strings(key, value, r.allowed_hosts);
  if (key == "allowed_users") return read_strings(key, value, r.allowed_users);
  return ApiError{400, "unknown field " + key, key};
}

}  // namespace dfs::control
