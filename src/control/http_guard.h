#pragma once
// The REST API's HTTP transport, hardened against hostile clients (docs/api.md, "Limits"):
// a bounded worker pool that starts threads as connections need them, and a server whose
// connections are read through a stream with a deadline and a size budget per request and a
// cap on connections per client address. cpp-httplib parses and routes as usual.

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dfs::control {

struct HttpLimits {
  static constexpr size_t kMaxBody = size_t{1} << 20;          // request body (413 beyond)
  static constexpr size_t kMaxHead = 64 * 1024;                // request line and headers
  static constexpr std::chrono::seconds kReadTimeout{5};       // one read, and the first byte
  static constexpr std::chrono::seconds kWriteTimeout{5};      // one write
  static constexpr std::chrono::seconds kRequestDeadline{10};  // a whole request's head and body
  static constexpr std::chrono::seconds kKeepAlive{5};         // idle between requests
  static constexpr size_t kKeepAliveRequests = 100;            // per connection
  static constexpr size_t kMaxWorkers = 64;                    // connections served at once
  static constexpr size_t kMaxQueued = 256;     // waiting for a worker; more are turned away
  static constexpr size_t kMaxPerAddress = 32;  // served at once for one client address
};

// cpp-httplib's task queue (one job per connection) with at most `max_workers` threads,
// started as jobs arrive. Jobs wait for a free worker; with `max_queued` (0: no limit) jobs
// waiting, a further connection is turned away at once with 503 (GuardedServer only).
class WorkerPool : public httplib::TaskQueue {
 public:
  WorkerPool(size_t max_workers, size_t max_queued);
  ~WorkerPool() override;
  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

 private:
  void run();

  const size_t max_workers_;
  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool stop_ = false;
};

// An httplib::Server reading its connections through a stream that enforces HttpLimits:
// a request must arrive whole (head and body) within kRequestDeadline, its head within
// kMaxHead bytes and its body within kMaxBody; a connection that breaks a limit is closed.
class GuardedServer : public httplib::Server {
 public:
  GuardedServer() = default;

 private:
  bool process_and_close_socket(socket_t sock) override;
  bool admit(const std::string& address);
  void release(const std::string& address);

  std::mutex mu_;
  std::map<std::string, size_t> per_address_;
};

// For the request being handled on this thread: the head has been read and the body
// follows; the connection closes after this response. No-ops outside a GuardedServer
// connection (HTTPS), where http_close_after_response() returns false.
void http_begin_body();
bool http_close_after_response();

}  // namespace dfs::control
