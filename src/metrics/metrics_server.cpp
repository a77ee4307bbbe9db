#include "metrics/metrics_server.h"

#include <httplib.h>

#include <chrono>
#include <stdexcept>

#include "metrics/exposition.h"

namespace dfs::metrics {

MetricsServer::MetricsServer(const Registry& registry) : registry_(registry) {}

MetricsServer::~MetricsServer() {
  stop();
}

void MetricsServer::start(const std::string& address, uint16_t port) {
  if (server_) throw std::runtime_error("metrics server is running already");
  auto server = std::make_unique<httplib::Server>();
  // Scrapes are rare and cheap: two threads instead of httplib's one per CPU.
  server->new_task_queue = [] { return new httplib::ThreadPool(2); };
  server->set_keep_alive_timeout(2);
  server->set_read_timeout(5);
  server->set_write_timeout(5);
  server->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(render(registry_), kContentType);
  });

  int bound = -1;
  if (port == 0) {
    bound = server->bind_to_any_port(address);
  } else if (server->bind_to_port(address, port)) {
    bound = port;
  }
  if (bound <= 0) {
    throw std::runtime_error("metrics: cannot listen on " + address + ":" + std::to_string(port));
  }
  port_ = static_cast<uint16_t>(bound);
  address_ = address;
  server_ = std::move(server);
  listen_returned_ = false;
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    listen_returned_ = true;
  });
  // httplib's stop() does nothing until listen_after_bind() has marked the server running,
  // so a stop() right after start() would leave the thread listening forever: wait for it.
  while (!server_->is_running() && !listen_returned_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void MetricsServer::stop() {
  if (!server_) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

}  // namespace dfs::metrics
