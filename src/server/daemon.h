#pragma once
// The daemon's wiring: stores -> shares -> namespace -> NFSv4 service -> RPC dispatcher ->
// TCP transport. Used by main() and, unchanged, by the integration tests (which run a real
// server on an ephemeral loopback port).

#include <memory>

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

  // Creates the shares and starts listening; throws std::runtime_error on failure.
  void start();
  void stop();

  uint16_t port() const { return tcp_->port(); }
  const Config& config() const { return config_; }
  vfs::Namespace& ns() { return ns_; }
  nfs4::SettingsHolder& settings() { return settings_; }
  nfs4::Nfs4Service& nfs() { return *service_; }
  rpc::TcpServer& transport() { return *tcp_; }

  // Builds a share's file system from its store names; throws for unknown stores.
  static std::shared_ptr<vfs::FileSystem> make_file_system(const ShareConfig& share,
                                                           uint64_t fsid);

 private:
  Config config_;
  nfs4::SettingsHolder settings_;
  vfs::Namespace ns_;
  std::unique_ptr<nfs4::Nfs4Service> service_;
  rpc::Dispatcher dispatcher_;
  std::unique_ptr<rpc::TcpServer> tcp_;
  bool started_ = false;
  bool registered_ = false;
};

}  // namespace dfs::server
