#include "server/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <set>
#include <stdexcept>

#include "util/cidr.h"

namespace dfs::server {
namespace {

template <class T>
void read(const YAML::Node& n, const char* key, T& out) {
  if (n[key]) out = n[key].as<T>();
}

void read_settings(const YAML::Node& n, nfs4::Settings& s) {
  read(n, "lease_time", s.lease_time);
  read(n, "grace_period", s.grace_period);
  read(n, "max_record_size", s.max_record_size);
  read(n, "max_compound_ops", s.max_compound_ops);
  read(n, "max_read_size", s.max_read_size);
  read(n, "max_write_size", s.max_write_size);
  read(n, "v4_max_session_slots", s.v4_max_session_slots);
  read(n, "v4_max_sessions_per_client", s.v4_max_sessions_per_client);
  read(n, "v4_max_connections_per_session", s.v4_max_connections_per_session);
  read(n, "delegations_enabled", s.delegations_enabled);
  read(n, "max_delegations", s.max_delegations);
  read(n, "callback_timeout", s.callback_timeout);
  read(n, "min_minor_version", s.min_minor_version);
  read(n, "max_minor_version", s.max_minor_version);
  read(n, "max_connections", s.max_connections);
  read(n, "idle_timeout", s.idle_timeout);
  read(n, "max_clients", s.max_clients);
  read(n, "max_lock_owners_per_client", s.max_lock_owners_per_client);
  read(n, "max_locks_per_client", s.max_locks_per_client);
  read(n, "reply_cache_budget_mb", s.reply_cache_budget_mb);
  read(n, "receive_budget_mb", s.receive_budget_mb);
}

// A uid or gid: 0 to 4294967294 ((uint32_t)-1 means "no id" to chown, so it is no user).
uint32_t read_id(const YAML::Node& n, const char* key, uint32_t fallback,
                 const std::string& where) {
  if (!n[key]) return fallback;
  uint32_t v = 0;
  if (!YAML::convert<uint32_t>::decode(n[key], v) || v == UINT32_MAX) {
    throw std::runtime_error(where + "." + key + " must be an integer from 0 to 4294967294");
  }
  return v;
}

ShareConfig read_share(const YAML::Node& s, size_t i) {
  const std::string where = "shares[" + std::to_string(i) + "]";
  // A misspelt key would otherwise be dropped in silence, and the share served with options
  // its operator did not choose.
  static const std::set<std::string> known{
      "path",       "metadata", "blocks",   "read_only",     "root_squash",
      "all_squash", "anon_uid", "anon_gid", "allowed_hosts", "capacity_bytes"};
  if (!s.IsMap()) throw std::runtime_error(where + " must be a map");
  for (const auto& kv : s) {
    auto key = kv.first.as<std::string>();
    if (!known.contains(key)) throw std::runtime_error(where + ": unknown key '" + key + "'");
  }
  ShareConfig sc;
  read(s, "path", sc.path);
  read(s, "metadata", sc.metadata_store);
  read(s, "blocks", sc.block_store);
  read(s, "read_only", sc.read_only);
  read(s, "root_squash", sc.root_squash);
  read(s, "all_squash", sc.all_squash);
  sc.anon_uid = read_id(s, "anon_uid", sc.anon_uid, where);
  sc.anon_gid = read_id(s, "anon_gid", sc.anon_gid, where);
  if (s["allowed_hosts"]) {
    sc.allowed_hosts = s["allowed_hosts"].as<std::vector<std::string>>();
    for (const auto& h : sc.allowed_hosts) {
      if (!util::Cidr::parse(h)) {
        throw std::runtime_error(where + ".allowed_hosts: '" + h +
                                 "' is not an address or CIDR block");
      }
    }
  }
  read(s, "capacity_bytes", sc.capacity_bytes);
  return sc;
}

std::vector<StoreConfig> read_stores(const YAML::Node& list, const char* kind) {
  const std::string where = std::string("stores.") + kind;
  if (!list.IsSequence()) throw std::runtime_error(where + " must be a list");
  std::vector<StoreConfig> out;
  for (const auto& s : list) {
    const std::string at = where + "[" + std::to_string(out.size()) + "]";
    if (!s.IsMap()) throw std::runtime_error(at + " must be a map");
    for (const auto& kv : s) {
      auto key = kv.first.as<std::string>();
      if (key != "name" && key != "type" && key != "directory") {
        throw std::runtime_error(at + ": unknown key '" + key + "'");
      }
    }
    StoreConfig sc;
    read(s, "name", sc.name);
    read(s, "type", sc.type);
    read(s, "directory", sc.directory);
    if (sc.name.empty() || sc.type.empty())
      throw std::runtime_error(at + " needs a name and a type");
    out.push_back(std::move(sc));
  }
  return out;
}

}  // namespace

void load_config_file(const std::string& path, Config& out) {
  try {
    YAML::Node root = YAML::LoadFile(path);
    if (root["listen"]) {
      // One address or a list of them.
      if (root["listen"].IsSequence()) {
        out.listen_addresses = root["listen"].as<std::vector<std::string>>();
      } else {
        out.listen_addresses = {root["listen"].as<std::string>()};
      }
    }
    read(root, "port", out.port);
    read(root, "log_level", out.log_level);
    read(root, "reactor_threads", out.reactor_threads);
    read(root, "rpcbind_register", out.rpcbind_register);
    read(root, "data_dir", out.data_dir);
    read(root, "password_cost", out.password_cost);
    if (root["free_space_floor_bytes"]) {
      out.free_space_floor_bytes = root["free_space_floor_bytes"].as<uint64_t>();
    }
    for (auto [key, target] : {std::pair{"api", &out.api}, std::pair{"metrics", &out.metrics}}) {
      if (!root[key]) continue;
      read(root[key], "enabled", target->enabled);
      read(root[key], "listen", target->address);
      read(root[key], "port", target->port);
      if (target == &out.api) {
        read(root[key], "tls_cert", target->tls_cert);
        read(root[key], "tls_key", target->tls_key);
      }
    }
    if (root["nfs"]) read_settings(root["nfs"], out.nfs);
    if (const auto stores = root["stores"]) {
      if (!stores.IsMap()) throw std::runtime_error("stores must be a map");
      for (const auto& kv : stores) {
        auto key = kv.first.as<std::string>();
        if (key == "metadata") {
          out.metadata_stores = read_stores(kv.second, "metadata");
        } else if (key == "blocks") {
          out.block_stores = read_stores(kv.second, "blocks");
        } else {
          throw std::runtime_error("stores: unknown key '" + key + "' (metadata, blocks)");
        }
      }
    }
    if (root["shares"]) {
      out.shares.clear();
      for (const auto& s : root["shares"])
        out.shares.push_back(read_share(s, out.shares.size()));
    }
  } catch (const YAML::Exception& e) {
    throw std::runtime_error("config " + path + ": " + e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("config " + path + ": " + e.what());
  }
}

}  // namespace dfs::server
