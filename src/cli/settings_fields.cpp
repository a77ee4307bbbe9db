#include "cli/settings_fields.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "cli/errors.h"

namespace dfs::cli {

const std::vector<SettingSpec>& nfs_setting_specs() {
  using K = SettingKind;
  // The fields of docs/api.md, "NFS adapter settings", in its order.
  static const std::vector<SettingSpec> specs = {
      {"lease_time", K::kUnsigned, 10, 3600, "NFSv4 lease, seconds"},
      {"grace_period", K::kUnsigned, 0, 3600, "grace after restart, seconds"},
      {"max_record_size", K::kUnsigned, 65536, 67108864, "largest RPC record, bytes"},
      {"max_compound_ops", K::kUnsigned, 2, 1024, "operations per COMPOUND"},
      {"max_read_size", K::kUnsigned, 4096, 4194304, "READ size, bytes"},
      {"max_write_size", K::kUnsigned, 4096, 4194304, "WRITE size, bytes"},
      {"v4_max_session_slots", K::kUnsigned, 1, 1024, "fore-channel slots per session"},
      {"v4_max_sessions_per_client", K::kUnsigned, 1, 256, "sessions per client id"},
      {"v4_max_connections_per_session", K::kUnsigned, 0, 1024,
       "connections per session, 0 = unlimited"},
      {"max_connections", K::kUnsigned, 0, 1000000,
       "open NFS connections in all, 0 = the descriptor limit less 256"},
      {"idle_timeout", K::kUnsigned, 0, 86400,
       "seconds a connection bound to no session may stay idle, 0 = forever"},
      {"max_clients", K::kUnsigned, 16, 10000000,
       "client records in all (unconfirmed ones are dropped first when full)"},
      {"max_lock_owners_per_client", K::kUnsigned, 1, 1000000, "lock owners one client may have"},
      {"max_locks_per_client", K::kUnsigned, 1, 100000000, "byte-range locks one client may hold"},
      {"reply_cache_budget_mb", K::kUnsigned, 0, 1048576,
       "worst-case reply cache of all sessions, MiB, 0 = 1/16 of memory"},
      {"receive_budget_mb", K::kUnsigned, 0, 1048576,
       "unfinished records being received, MiB, 0 = 1/16 of memory"},
      {"delegations_enabled", K::kBool, 0, 1, "offer delegations"},
      {"max_delegations", K::kUnsigned, 0, 1000000, "delegations outstanding"},
      {"callback_timeout", K::kUnsigned, 1, 300, "backchannel call timeout, seconds"},
      {"min_minor_version", K::kUnsigned, 1, 2, "lowest NFSv4 minor version served"},
      {"max_minor_version", K::kUnsigned, 1, 2, "highest NFSv4 minor version served"},
  };
  return specs;
}

std::string flag_for_field(std::string_view field) {
  std::string out(field);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

std::string field_for_flag(std::string_view flag) {
  while (!flag.empty() && flag.front() == '-')
    flag.remove_prefix(1);
  std::string out(flag);
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

const SettingSpec* find_setting_spec(std::string_view name) {
  const std::string field = field_for_flag(name);
  for (const auto& s : nfs_setting_specs()) {
    if (field == s.field) return &s;
  }
  return nullptr;
}

nlohmann::json parse_setting_value(const SettingSpec& spec, std::string_view text) {
  const std::string flag = "--" + flag_for_field(spec.field);
  if (spec.kind == SettingKind::kBool) {
    std::string low(text);
    for (auto& c : low)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (low == "true" || low == "yes" || low == "on" || low == "1") return true;
    if (low == "false" || low == "no" || low == "off" || low == "0") return false;
    throw usage_error(flag + ": expected true or false, got '" + std::string(text) + "'");
  }
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    throw usage_error(flag + ": expected a non-negative integer, got '" + std::string(text) + "'");
  }
  return value;
}

}  // namespace dfs::cli
