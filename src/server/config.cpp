#include "server/config.h"

#include <yaml-cpp/yaml.h>

#include <stdexcept>

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
    if (root["shares"]) {
      out.shares.clear();
      for (const auto& s : root["shares"]) {
        ShareConfig sc;
        read(s, "path", sc.path);
        read(s, "metadata", sc.metadata_store);
        read(s, "blocks", sc.block_store);
        read(s, "read_only", sc.read_only);
        read(s, "root_squash", sc.root_squash);
        read(s, "capacity_bytes", sc.capacity_bytes);
        out.shares.push_back(sc);
      }
    }
  } catch (const YAML::Exception& e) {
    throw std::runtime_error("config " + path + ": " + e.what());
  }
}

}  // namespace dfs::server
