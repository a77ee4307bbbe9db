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

struct TcpServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 12049;
  unsigned reactor_threads = 0;  // 0: one per CPU
  size_t max_record_size = 4u << 20;
};

class TcpServer {
 public:
  TcpServer(TcpServerOptions options, RecordHandler& handler);
  ~TcpServer();
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  // Binds and starts the threads; throws std::runtime_error if the address cannot be bound.
  void start();
  void stop();
  uint16_t port() const { return bound_port_; }
  std::string listen_address() const;

  // Applies to records framed from now on, on every connection.
  void set_max_record_size(size_t n) { max_record_size_.store(n); }
  size_t max_record_size() const { return max_record_size_.load(); }

  size_t connection_count() const;
  // A snapshot of the open connections.
  std::vector<std::shared_ptr<Connection>> connections() const;

 private:
  void accept_loop();

  TcpServerOptions options_;
  RecordHandler& handler_;
  std::atomic<size_t> max_record_size_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;
  uint16_t bound_port_ = 0;
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> next_conn_id_{1};
  std::vector<std::unique_ptr<Reactor>> reactors_;
  std::thread acceptor_;
};

}  // namespace dfs::rpc
