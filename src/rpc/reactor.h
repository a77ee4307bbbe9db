#pragma once
// One epoll loop owning a set of connections (internal to the transport).

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "rpc/connection.h"
#include "rpc/connection_registry.h"
#include "rpc/record_framer.h"
#include "rpc/tcp_server.h"

namespace dfs::rpc {

class Reactor {
 public:
  Reactor(RecordHandler& handler, std::atomic<size_t>& max_record_size,
          ConnectionRegistry& registry, std::atomic<int64_t>& receive_budget,
          TransportObserver* const& observer);
  ~Reactor();

  void start();
  void stop();
  // Hands an accepted socket to this reactor; safe from any thread.
  void adopt(int fd, uint64_t id, std::string peer, std::string local);
  // Arms or disarms EPOLLOUT for a connection with queued output.
  void set_want_write(Connection& conn, bool on);
  // Wakes the loop so it notices a close request.
  void request_close(Connection& conn);
  // Wakes the loop so it drains the connection (Connection::drain).
  void request_drain(Connection& conn);
  // True on this reactor's own thread.
  bool on_own_thread() const;

  size_t connection_count() const;
  void snapshot(std::vector<std::shared_ptr<Connection>>& out) const;

 private:
  struct Slot {
    std::shared_ptr<Connection> conn;
    xdr::ByteBuffer rbuf;  // unprocessed bytes are [start, rbuf.size())
    RecordFramer framer;
    size_t wanted = 0;  // bytes from `start` needed to complete the current fragment
    size_t start = 0;
    // Bulk bytes of the record being received that go to buffers of their own
    // (RecordHandler::place), and how many of them have arrived.
    std::shared_ptr<xdr::OutOfLineBytes> placed;
    size_t placed_received = 0;
    // The connection sends large records: the next record's head is read on its own, so
    // that its bulk bytes are not read into the receive buffer before they can be placed.
    bool bulk = false;
    // Draining: nothing more is read; the socket closes once the replies are written.
    bool draining = false;
    // Bytes of unfinished records held for this connection beyond its base receive buffer
    // (a grown buffer, placed bulk buffers), charged to the transport's receive budget.
    int64_t charged = 0;
    // The part of `charged` that pays for the framer's assembly buffer.
    int64_t framer_charged = 0;
  };

  void run();
  void drain_adopted();
  void on_readable(Slot& slot);
  // Makes room after the buffered bytes for the next read (see the .cpp for the policy);
  // false when the receive budget cannot pay for a larger buffer.
  bool make_room(Slot& slot);
  // Charges `delta` bytes (negative: refunds) to the receive budget for this connection;
  // false (and nothing charged) when the budget is spent.
  bool charge(Slot& slot, int64_t delta);
  static void log_budget_spent(const Connection& conn);
  void on_writable(Slot& slot);
  // Frames and dispatches whatever complete records the buffer holds; false on a fatal error.
  bool dispatch_records(Slot& slot);
  // Starts draining a connection (stops reading; closes when its replies are out).
  void start_drain(Slot& slot);
  // The record whose fragment header is at `frag` in the buffer is incomplete: asks the
  // handler where its bulk bytes go and, if somewhere, moves those already buffered there and
  // shortens the fragment header by their length.
  void try_place(Slot& slot, size_t frag);
  // One read into the placed buffers and then the receive buffer; returns what read() does.
  ssize_t read_placed(Slot& slot, int fd, size_t space, size_t& asked);
  void drop(int fd);

  RecordHandler& handler_;
  std::atomic<size_t>& max_record_size_;
  ConnectionRegistry& registry_;
  std::atomic<int64_t>& receive_budget_;
  TransportObserver* const& observer_;
  int epfd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> running_{false};
  std::thread thread_;
  std::thread::id thread_id_;

  mutable std::mutex mu_;  // guards slots_ against snapshots and adopted_
  std::unordered_map<int, std::unique_ptr<Slot>> slots_;
  std::vector<std::tuple<int, uint64_t, std::string, std::string>> adopted_;
  std::vector<std::pair<int, uint64_t>> close_requests_;  // fd and connection id
  std::vector<std::pair<int, uint64_t>> drain_requests_;  // fd and connection id
};

}  // namespace dfs::rpc
