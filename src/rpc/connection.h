#pragma once
// One TCP connection as the layers above the transport see it: an identity, a peer address,
// a thread-safe way to send a record, and a way to close. Replies and (later) backchannel
// calls both go out through send(). The transport owns the socket; holders of a Connection
// (sessions that bind it) keep only a handle that stays valid after the socket closes.

#include <sys/uio.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "xdr/byte_buffer.h"
#include "xdr/encoder.h"

namespace dfs::rpc {

class Reactor;

// A message ready to go: its bytes (record mark included) and any spliced data.
struct OutboundMessage {
  xdr::ByteBuffer head;
  std::vector<iovec> iov;
  std::vector<std::shared_ptr<const void>> owners;
  size_t total = 0;
  size_t sent = 0;

  // Builds the gather list from an encoder whose buffer is `head`; the encoder must have
  // reserved 4 bytes at the start for the record mark.
  static OutboundMessage from_encoder(xdr::Encoder& enc, xdr::ByteBuffer&& head);
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // Backpressure: a peer that does not read its replies stops being read from once this many
  // bytes wait for it, and is read again when half of them are gone (bounded memory per
  // connection, whatever the peer does).
  static constexpr size_t kMaxQueuedBytes = 64u << 20;

  Connection(uint64_t id, int fd, std::string peer, Reactor* reactor, std::string local = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  uint64_t id() const { return id_; }
  const std::string& peer() const { return peer_; }
  // The server address the connection arrived on ("127.0.0.2:2049"); empty if unknown.
  const std::string& local() const { return local_; }
  std::chrono::system_clock::time_point accepted_at() const { return accepted_at_; }
  bool is_closed() const { return closed_.load(std::memory_order_acquire); }

  // ---- bookkeeping (connection registry, REST, limits) ----
  // Steady-clock time of the last record received or reply sent. Stored by the connection's
  // own reactor, once per batch of records: a cache line no other connection writes.
  std::chrono::steady_clock::time_point last_activity() const {
    return std::chrono::steady_clock::time_point(
        std::chrono::steady_clock::duration(last_activity_ns_.load(std::memory_order_relaxed)));
  }
  void touch() {
    last_activity_ns_.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                            std::memory_order_relaxed);
  }
  uint64_t bytes_in() const { return bytes_in_.load(std::memory_order_relaxed); }
  uint64_t bytes_out() const { return bytes_out_.load(std::memory_order_relaxed); }
  // How many sessions the connection is bound to, kept by the layer that binds (NFSv4.1
  // state). A connection bound to none is idle-timed-out and shed first when the server is
  // out of connections.
  void add_bindings(int delta) { bindings_.fetch_add(delta, std::memory_order_relaxed); }
  uint32_t bindings() const { return bindings_.load(std::memory_order_relaxed); }

  // Closes the connection gracefully (operator drain): reading stops, the records already
  // received are executed and answered, and the socket closes once every reply is written.
  // Safe from any thread.
  void drain();
  bool draining() const { return draining_.load(std::memory_order_acquire); }

  // Queues or writes the message; safe from any thread. False if the connection is closed.
  bool send(OutboundMessage&& msg);
  // Asks the transport to close the connection; safe from any thread.
  void close();

  // Called when the connection has closed (after the transport dropped it).
  void on_close(std::function<void(Connection&)> listener);

  // Reply bytes waiting for the peer to read them, and whether reading from the peer is
  // paused because there are too many (observability and tests).
  size_t queued_bytes() const { return queued_bytes_.load(std::memory_order_relaxed); }
  bool read_paused() {
    std::lock_guard lock(write_mu_);
    return read_paused_;
  }

 private:
  friend class Reactor;

  // Writes as much of the queue as the socket takes; true when the queue is empty.
  bool flush_locked();
  void mark_closed();

  const uint64_t id_;
  int fd_;
  const std::string peer_;
  const std::string local_;
  Reactor* const reactor_;
  const std::chrono::system_clock::time_point accepted_at_ = std::chrono::system_clock::now();
  std::atomic<bool> closed_{false};
  std::atomic<bool> draining_{false};
  std::atomic<int64_t> last_activity_ns_{
      std::chrono::steady_clock::now().time_since_epoch().count()};
  std::atomic<uint64_t> bytes_in_{0};   // added by the reactor
  std::atomic<uint64_t> bytes_out_{0};  // added under write_mu_
  std::atomic<uint32_t> bindings_{0};

  std::mutex write_mu_;
  std::deque<OutboundMessage> queue_;
  bool want_write_ = false;              // EPOLLOUT is armed
  std::atomic<size_t> queued_bytes_{0};  // changed under write_mu_, read anywhere
  bool read_paused_ = false;             // under write_mu_
  bool batching_ = false;  // the reactor is processing a read batch; it flushes afterwards

  std::mutex listeners_mu_;
  std::vector<std::function<void(Connection&)>> close_listeners_;
};

}  // namespace dfs::rpc
