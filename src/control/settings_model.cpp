#include "control/settings_model.h"

#include <fmt/format.h>

namespace dfs::control {

using S = nfs4::Settings;

const std::vector<SettingField>& nfs_setting_fields() {
  // Ranges keep the server usable: leases long enough to renew over a slow link, records
  // big enough for a maximum WRITE plus headers, limits that bound memory per client.
  static const std::vector<SettingField> fields = {
      {"lease_time", &S::lease_time, nullptr, 10, 3600, false, "NFSv4 lease, seconds"},
      {"grace_period", &S::grace_period, nullptr, 0, 3600, false, "grace after restart, seconds"},
      {"max_record_size", &S::max_record_size, nullptr, 65536, 64u << 20, false,
       "largest RPC record, bytes"},
      {"max_compound_ops", &S::max_compound_ops, nullptr, 2, 1024, false,
       "operations per COMPOUND"},
      {"max_read_size", &S::max_read_size, nullptr, 4096, 4u << 20, false, "READ size, bytes"},
      {"max_write_size", &S::max_write_size, nullptr, 4096, 4u << 20, false, "WRITE size, bytes"},
      {"v4_max_session_slots", &S::v4_max_session_slots, nullptr, 1, 1024, false,
       "fore-channel slots per session"},
      {"v4_max_sessions_per_client", &S::v4_max_sessions_per_client, nullptr, 1, 256, false,
       "sessions per client id"},
      {"v4_max_connections_per_session", &S::v4_max_connections_per_session, nullptr, 0, 1024,
       false, "connections per session, 0 = unlimited"},
      {"max_connections", &S::max_connections, nullptr, 0, 1000000, false,
       "open NFS connections in all, 0 = the descriptor limit less 256"},
      {"idle_timeout", &S::idle_timeout, nullptr, 0, 86400, false,
       "seconds a connection bound to no session may stay idle, 0 = forever"},
      {"max_clients", &S::max_clients, nullptr, 16, 10000000, false,
       "client records in all (unconfirmed ones are dropped first when full)"},
      {"max_lock_owners_per_client", &S::max_lock_owners_per_client, nullptr, 1, 1000000, false,
       "lock owners one client may have"},
      {"max_locks_per_client", &S::max_locks_per_client, nullptr, 1, 100000000, false,
       "byte-range locks one client may hold"},
      {"reply_cache_budget_mb", &S::reply_cache_budget_mb, nullptr, 0, 1048576, false,
       "worst-case reply cache of all sessions, MiB, 0 = 1/16 of memory"},
      {"receive_budget_mb", &S::receive_budget_mb, nullptr, 0, 1048576, false,
       "unfinished records being received, MiB, 0 = 1/16 of memory"},
      {"delegations_enabled", nullptr, &S::delegations_enabled, 0, 1, false, "offer delegations"},
      {"max_delegations", &S::max_delegations, nullptr, 0, 1000000, false,
       "delegations outstanding"},
      {"callback_timeout", &S::callback_timeout, nullptr, 1, 300, false,
       "backchannel call timeout, seconds"},
      {"min_minor_version", &S::min_minor_version, nullptr, 1, 2, false,
       "lowest NFSv4 minor version"},
      {"max_minor_version", &S::max_minor_version, nullptr, 1, 2, false,
       "highest NFSv4 minor version"},
  };
  return fields;
}

const SettingField* find_setting(const std::string& name) {
  for (const auto& f : nfs_setting_fields()) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

nlohmann::json settings_to_json(const nfs4::Settings& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : nfs_setting_fields()) {
    if (f.bool_member) {
      j[f.name] = s.*f.bool_member;
    } else {
      j[f.name] = s.*f.uint_member;
    }
  }
  return j;
}

std::optional<ValidationError> apply_settings(const nlohmann::json& changes, nfs4::Settings& s,
                                              bool require_all) {
  if (!changes.is_object()) return ValidationError{"", "the body must be a JSON object", {}, {}};
  nfs4::Settings next = s;
  for (const auto& [key, value] : changes.items()) {
    const SettingField* f = find_setting(key);
    if (!f) return ValidationError{key, "unknown setting " + key, {}, {}};
    if (f->bool_member) {
      if (!value.is_boolean()) return ValidationError{key, key + " must be true or false", {}, {}};
      next.*f->bool_member = value.get<bool>();
      continue;
    }
    if (!value.is_number_integer() ||
        (value.is_number_integer() && !value.is_number_unsigned() && value.get<int64_t>() < 0) ||
        value.get<uint64_t>() < f->min || value.get<uint64_t>() > f->max) {
      return ValidationError{
          key, fmt::format("{} must be an integer between {} and {}", key, f->min, f->max), f->min,
          f->max};
    }
    next.*f->uint_member = static_cast<uint32_t>(value.get<uint64_t>());
  }
  if (require_all) {
    for (const auto& f : nfs_setting_fields()) {
      if (!changes.contains(f.name)) {
        return ValidationError{
            f.name, std::string(f.name) + " is missing (PUT needs every field)", {}, {}};
      }
    }
  }
  if (next.min_minor_version > next.max_minor_version) {
    return ValidationError{"min_minor_version",
                           "min_minor_version must not exceed max_minor_version", 1,
                           next.max_minor_version};
  }
  if (next.max_record_size < next.max_write_size + 4096 ||
      next.max_record_size < next.max_read_size + 4096) {
    return ValidationError{"max_record_size",
                           "max_record_size must exceed max_read_size and max_write_size by at "
                           "least 4096 bytes of headers",
                           std::max(next.max_read_size, next.max_write_size) + 4096ull,
                           64ull << 20};
  }
  s = next;
  return std::nullopt;
}

std::vector<std::string> restart_required(const nfs4::Settings& before,
                                          const nfs4::Settings& after) {
  std::vector<std::string> out;
  for (const auto& f : nfs_setting_fields()) {
    if (!f.restart_required) continue;
    bool changed = f.bool_member ? before.*f.bool_member != after.*f.bool_member
                                 : before.*f.uint_member != after.*f.uint_member;
    if (changed) out.push_back(f.name);
  }
  return out;
}

}  // namespace dfs::control
