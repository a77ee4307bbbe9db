#pragma once
// GET /metrics over HTTP on its own listener (127.0.0.1:9090 by default), apart from the NFS
// port and the REST API so a scraper needs no credentials and a busy API cannot starve it.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "metrics/registry.h"

namespace httplib {
class Server;
}

namespace dfs::metrics {

class MetricsServer {
 public:
  static constexpr const char* kDefaultAddress = "127.0.0.1";
  static constexpr uint16_t kDefaultPort = 9090;

  // `registry` must outlive the server.
  explicit MetricsServer(const Registry& registry);
  ~MetricsServer();  // stops
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds and starts serving; port 0 picks an ephemeral port (see port()). Throws
  // std::runtime_error if the address cannot be bound or the server is running already.
  void start(const std::string& address = kDefaultAddress, uint16_t port = kDefaultPort);
  // Closes the listener and waits for the serving threads (an idle keep-alive connection can
  // hold this up for the keep-alive timeout, 2 s).
  void stop();
  bool running() const { return server_ != nullptr; }
  uint16_t port() const { return port_; }
  const std::string& address() const { return address_; }

 private:
  const Registry& registry_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
  std::string address_;
  uint16_t port_ = 0;
};

}  // namespace dfs::metrics
