#pragma once
// The daemon's wiring: stores -> shares -> namespace -> NFSv4 service -> RPC dispatcher ->
// TCP transport, plus the control plane (REST API over a SQLite control database). Used by
// main() and, unchanged, by the integration tests (which run a real server on ephemeral
// loopback ports).

#include <chrono>
#include <memory>
#include <string>

#include "control/api_server.h"
#include "control/auth_service.h"
#include "control/control_db.h"
#include "control/jwt.h"
#include "control/settings_service.h"
#include "control/share_service.h"
#include "control/store_catalog.h"
#include "metrics/metrics_server.h"
#include "metrics/nfs_metrics.h"
#include "metrics/registry.h"
#include "nfs4/program.h"
#include "nfs4/service.h"
#include "rpc/dispatcher.h"
#include "rpc/tcp_server.h"
#include "server/config.h"
#include "vfs/namespace.h"

namespace dfs::server {

class Daemon {
 public:
  explicit Daemon(Config config);
  ~Daemon();

  // Creates the shares, opens the control database and starts listening; throws
  // std::runtime_error on failure.
  void start();
  void stop();

  uint16_t port() const { return tcp_->port(); }
  uint16_t api_port() const { return api_ ? api_->port() : 0; }
  uint16_t metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }
  metrics::Registry& metrics_registry() { return registry_; }
  const Config& config() const { return config_; }
  const std::string& data_dir() const { return data_dir_; }
  vfs::Namespace& ns() { return ns_; }
  nfs4::SettingsHolder& settings() { return settings_; }
  nfs4::Nfs4Service& nfs() { return *service_; }
  rpc::TcpServer& transport() { return *tcp_; }
  // The admin password generated at first start (empty if it was given or already existed).
  const std::string& generated_admin_password() const { return generated_password_; }

 private:
  // Builds a share's file system from the stores it names; throws std::invalid_argument for
  // an unknown store or a durable one that cannot be opened. A durable store keeps the
  // share's data in StoreCatalog::share_directory (metadata/ or blocks/ under it).
  std::shared_ptr<vfs::FileSystem> make_file_system(const ShareConfig& share, uint64_t fsid);
  void start_control();
  nlohmann::json server_info() const;

  Config config_;
  std::string data_dir_;
  nfs4::SettingsHolder settings_;
  vfs::Namespace ns_;
  std::unique_ptr<nfs4::Nfs4Service> service_;
  rpc::Dispatcher dispatcher_;
  std::unique_ptr<rpc::TcpServer> tcp_;
  std::unique_ptr<control::ControlDb> db_;
  std::unique_ptr<control::JwtSigner> jwt_;
  std::unique_ptr<control::AuthService> auth_;
  std::unique_ptr<control::StoreCatalog> stores_;
  std::unique_ptr<control::ShareService> shares_;
  std::unique_ptr<control::SettingsService> settings_service_;
  std::unique_ptr<control::ApiServer> api_;
  metrics::Registry registry_;
  std::unique_ptr<metrics::NfsMetrics> nfs_metrics_;
  std::unique_ptr<metrics::MetricsServer> metrics_server_;
  std::string generated_password_;
  std::chrono::steady_clock::time_point started_at_;
  bool started_ = false;
  bool registered_ = false;
};

}  // namespace dfs::server
