#pragma once
// The REST control plane (`/api/v1`, docs/api.md) over cpp-httplib: authentication and roles,
// users, shares, named stores, NFS adapter settings, clients, sessions and connections,
// server status.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "control/auth_service.h"
#include "control/settings_service.h"
#include "control/share_service.h"
#include "nfs4/callback.h"
#include "nfs4/state/state_manager.h"
#include "rpc/tcp_server.h"

namespace httplib {
class Server;
}

namespace dfs::control {

struct ApiDeps {
  ControlDb& db;
  AuthService& auth;
  ShareService& shares;
  StoreCatalog& stores;
  SettingsService& settings;
  nfs4::state::StateManager& state;
  rpc::TcpServer& transport;                    // the NFS connections
  nfs4::CallbackService& callbacks;             // back-channel state per session
  std::function<nlohmann::json()> server_info;  // version, uptime, listeners
  std::function<bool()> ready;
  // PEM files; with both set the API speaks HTTPS only (api.tls_cert, api.tls_key).
  std::string tls_cert = {};
  std::string tls_key = {};
};

class ApiServer {
 public:
  // Throws std::runtime_error if only one of the TLS files is given or they cannot be loaded.
  explicit ApiServer(ApiDeps deps);
  ~ApiServer();

  // Binds (port 0: any free port) and serves on a background thread; throws on failure.
  void start(const std::string& address, uint16_t port);
  void stop();
  uint16_t port() const { return port_; }
  bool tls() const { return tls_; }

 private:
  void limits();
  void routes();

  ApiDeps d_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  uint16_t port_ = 0;
  bool tls_ = false;
};

}  // namespace dfs::control
