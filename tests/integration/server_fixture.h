#pragma once
// A real dfs (the same Daemon main() runs) on an ephemeral loopback port, per test.

#include <gtest/gtest.h>

#include <memory>

#include "client/nfs_client.h"
#include "server/daemon.h"

namespace dfs::testing {

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { start(server::Config{}); }
  void TearDown() override {
    if (daemon_) daemon_->stop();
  }
  void start(server::Config config) {
    if (daemon_) daemon_->stop();
    config.listen_address = "127.0.0.1";
    config.port = 0;
    config.reactor_threads = 2;
    config.rpcbind_register = false;
    daemon_ = std::make_unique<server::Daemon>(config);
    daemon_->start();
  }
  uint16_t port() const { return daemon_->port(); }
  // A client with a session, uid/gid as given.
  std::unique_ptr<NfsClient> client(uint32_t uid = 0, uint32_t gid = 0) {
    auto c = std::make_unique<NfsClient>("127.0.0.1", port(), uid, gid);
    c->establish();
    return c;
  }
  std::unique_ptr<NfsClient> bare_client() {
    return std::make_unique<NfsClient>("127.0.0.1", port());
  }
  server::Daemon& daemon() { return *daemon_; }

  std::unique_ptr<server::Daemon> daemon_;
};

}  // namespace dfs::testing
