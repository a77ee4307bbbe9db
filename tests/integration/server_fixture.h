#pragma once
// A real dfs (the same Daemon main() runs) on an ephemeral loopback port, per test.

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "client/nfs_client.h"
#include "server/daemon.h"

namespace dfs::testing {

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { start(initial_config()); }
  // The configuration SetUp starts with: the embedded defaults (one share, /export, root
  // squashed) unless a test asks for more.
  virtual server::Config initial_config() const { return {}; }
  // The defaults with client root acting as root on /export, for tests that need root's
  // privileges (chown, other users' files) or files owned by uid 0.
  static server::Config root_not_squashed() {
    server::Config config;
    config.shares.at(0).root_squash = false;
    return config;
  }
  // The defaults with /export on the memory stores (a scratch share), for tests of what the
  // memory stores do.
  static server::Config memory_stores() {
    server::Config config;
    config.shares.at(0).metadata_store = "memory";
    config.shares.at(0).block_store = "memory";
    return config;
  }
  void TearDown() override {
    if (daemon_) daemon_->stop();
    daemon_.reset();
    if (!data_dir_.empty()) std::filesystem::remove_all(data_dir_);
  }
  // Starts (or restarts) the server. The control database lives in a per-test directory
  // that survives restarts within the test; every listener takes an ephemeral port.
  void start(server::Config config) {
    if (daemon_) daemon_->stop();
    daemon_.reset();
    if (data_dir_.empty()) {
      char tmpl[] = "/tmp/dfs-test.XXXXXX";
      data_dir_ = ::mkdtemp(tmpl);
    }
    config.listen_addresses = listen_;
    config.port = 0;
    config.reactor_threads = 2;
    config.rpcbind_register = false;
    config.data_dir = data_dir_;
    config.api.port = 0;
    config.metrics.port = 0;
    config.password_cost = password_cost_;
    // Clients of an earlier start in the test would hold the restarted server in grace (and
    // every OPEN at NFS4ERR_GRACE) for 90 s; the grace tests ask for one.
    config.nfs.grace_period = grace_period_;
    daemon_ = std::make_unique<server::Daemon>(config);
    daemon_->start();
  }
  std::string data_dir_;
  std::vector<std::string> listen_{"127.0.0.1"};  // what start() listens on
  std::string password_cost_ = "minimal";         // fast logins unless a test needs the real cost
  uint32_t grace_period_ = 0;
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
