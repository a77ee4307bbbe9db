#pragma once
// The TCP transport: an acceptor and a few epoll reactor threads. Each connection belongs to
// one reactor, which reads, frames records and hands each to the RecordHandler inline; replies
// produced while a read batch is handled are written together with one writev at its end.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "rpc/connection.h"
#include "rpc/connection_registry.h"
#include "xdr/out_of_line.h"

namespace dfs::rpc {

class RecordHandler {
 public:
  virtual ~RecordHandler() = default;
  virtual void on_connect(const std::shared_ptr<Connection>&) {}
  // Asked, on the connection's reactor thread, when the opening bytes of a record (`head`,
  // after the record mark) have arrived but not the whole `length`: may return buffers for a
  // bulk opaque inside it to be received into directly (xdr/out_of_line.h). Null: the record
  // is received whole, as usual.
  virtual std::shared_ptr<xdr::OutOfLineBytes> place(std::span<const uint8_t> head, size_t length) {
    (void)head;
    (void)length;
    return nullptr;
  }
  // One complete RPC record; the bytes are valid only during the call. When place() chose
  // buffers for it, `out_of_line` holds those bytes and `record` lacks them.
  virtual void on_record(const std::shared_ptr<Connection>& conn, std::span<const uint8_t> record,
                         std::shared_ptr<xdr::OutOfLineBytes> out_of_line) = 0;
  virtual void on_disconnect(const std::shared_ptr<Connection>&) {}
};

// Why the transport turned a connection away or closed it on its own.
enum class ShedReason : uint8_t {
  kMaxConnections,  // the server was at its connection limit (or out of descriptors)
  kIdleTimeout,     // bound to no session and idle for longer than the idle timeout
  kReceiveBudget,   // its unfinished record could not be held: the receive budget was spent
};
// "max_connections", "idle_timeout", "receive_budget"
const char* shed_reason_name(ShedReason r);

class TransportObserver {
 public:
  virtual ~TransportObserver() = default;
  virtual void connection_shed(ShedReason why) = 0;
};

struct TcpServerOptions {
  // Every address is listened on with the same port (IPv4 or IPv6 literals).
  std::vector<std::string> addresses{"0.0.0.0"};
  uint16_t port = 12049;
  unsigned reactor_threads = 0;  // 0: one per CPU
  size_t max_record_size = 4u << 20;
  size_t max_connections = 0;   // 0: the descriptor limit less a reserve
  unsigned idle_timeout_s = 0;  // for connections bound to no session; 0: never
  // Bytes all connections together may hold for unfinished records beyond their base
  // receive buffers; 0: a sixteenth of the machine's memory.
  uint64_t receive_budget = 0;
};

class TcpServer {
 public:
  TcpServer(TcpServerOptions options, RecordHandler& handler);
  ~TcpServer();
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  // Binds and starts the threads; throws std::runtime_error if an address cannot be bound.
  void start();
  void stop();
  uint16_t port() const { return bound_port_; }
  // The first address listened on, with the port ("127.0.0.1:12049", "[::1]:12049").
  std::string listen_address() const;
  std::vector<std::string> listen_addresses() const;

  // Applies to records framed from now on, on every connection.
  void set_max_record_size(size_t n) { max_record_size_.store(n); }
  size_t max_record_size() const { return max_record_size_.load(); }
  // Live limits (0 keeps the meaning they have in TcpServerOptions).
  void set_limits(size_t max_connections, unsigned idle_timeout_s, uint64_t receive_budget);
  // What is left of the receive budget (for tests and metrics).
  int64_t receive_budget_left() const { return receive_budget_left_.load(); }
  // The connection limit in force (max_connections, or the automatic one).
  size_t max_connections() const;
  // Told when a connection is turned away or shed; set before start().
  void set_observer(TransportObserver* o) { observer_ = o; }

  size_t connection_count() const { return registry_.size(); }
  // accept() calls that failed (out of descriptors, or memory, ...), for tests and metrics.
  uint64_t accept_failures() const { return accept_failures_.load(); }
  // Tests: the next `count` accepts fail with `err` as they would in a process out of
  // descriptors, and the connections stay waiting (a real EMFILE cannot be produced in a
  // sanitizer build: UBSan's first check of a virtual call needs a pipe of its own).
  void fail_accepts_for_test(int err, uint64_t count) {
    failing_errno_.store(err);
    failing_accepts_.store(count);
  }
  // A snapshot of the open connections.
  std::vector<std::shared_ptr<Connection>> connections() const { return registry_.all(); }
  std::shared_ptr<Connection> find(uint64_t id) const { return registry_.find(id); }

 private:
  void accept_loop();
  // Accepts one connection from `fd` (or turns it away): kOne; kNone when there was none;
  // kPause when accepting should pause (out of descriptors with nothing to shed).
  enum class Accepted { kOne, kNone, kPause };
  Accepted accept_one(int fd);
  // Closes the connection bound to no session that was idle longest; false if there is none.
  bool shed_idle_unbound();
  // Closes connections bound to no session that were idle longer than the timeout.
  void sweep_idle();

  TcpServerOptions options_;
  RecordHandler& handler_;
  std::atomic<size_t> max_record_size_;
  std::atomic<size_t> max_connections_;
  std::atomic<unsigned> idle_timeout_s_;
  size_t auto_max_connections_ = 0;
  uint64_t receive_budget_ = 0;                  // the configured total
  std::atomic<int64_t> receive_budget_left_{0};  // what the reactors may still charge
  TransportObserver* observer_ = nullptr;
  std::atomic<uint64_t> accept_failures_{0};
  std::atomic<uint64_t> failing_accepts_{0};
  std::atomic<int> failing_errno_{0};
  ConnectionRegistry registry_;
  std::vector<int> listen_fds_;
  std::vector<std::string> bound_addresses_;
  int stop_fd_ = -1;
  uint16_t bound_port_ = 0;
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> next_conn_id_{1};
  std::vector<std::unique_ptr<Reactor>> reactors_;
  size_t next_reactor_ = 0;
  std::thread acceptor_;
};

}  // namespace dfs::rpc
