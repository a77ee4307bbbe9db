#pragma once
// The load generator's engine: one thread per connection, one NFSv4.1 session per connection,
// and one C++20 coroutine per session slot. A slot's coroutine sends a request and suspends;
// the connection's thread waits for whichever reply comes next (RpcClient::wait_any) and
// resumes the coroutine that owns it. So every slot keeps one request in flight and a
// connection keeps `depth` requests in flight, while each workload reads as plain sequential
// code (co_await slot.call(...)).

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "client/nfs_client.h"

namespace dfs::bench {

using Clock = std::chrono::steady_clock;
using namespace dfs::nfs4;  // NOLINT: the wire types, as the project client uses them
using testing::CompoundBuilder;
using testing::CompoundReply;
using testing::NfsClient;

// What one connection measured during one phase; merged over connections afterwards.
struct PhaseStats {
  uint64_t ops = 0;                        // workload units (calls, files, I/Os, entries)
  uint64_t compounds = 0;                  // RPCs sent and answered
  uint64_t bytes = 0;                      // file data moved
  std::vector<uint32_t> lat_us;            // one sample per RPC, microseconds
  std::map<std::string, uint64_t> errors;  // "what: NFS4ERR_X" -> count
  std::vector<std::string> failures;       // broken connections, undecodable replies

  void merge(PhaseStats&& o);
  uint64_t error_count() const;
};

// The coroutine type of a slot's work. It starts suspended; the driver starts it.
class Task {
 public:
  struct promise_type {
    std::exception_ptr error;
    Task get_return_object() {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { error = std::current_exception(); }
  };
  Task() = default;
  explicit Task(std::coroutine_handle<promise_type> h) : h_(h) {}
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }
  void start() { h_.resume(); }
  bool done() const { return h_.done(); }
  std::exception_ptr error() const { return h_.promise().error; }

 private:
  std::coroutine_handle<promise_type> h_;
};

// The connection died or stopped answering: the slot's coroutine cannot go on.
struct ConnectionBroken : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Connection;

// One session slot: at most one request in flight. Requests are queued on the connection and
// sent in batches (see Connection::drive).
class Slot {
 public:
  Slot(Connection& conn, uint32_t id) : conn_(&conn), id_(id) {}

  uint32_t id() const { return id_; }
  Connection& conn() { return *conn_; }

  // A COMPOUND builder that already holds SEQUENCE for this slot (next sequence id).
  CompoundBuilder begin();

  struct CompoundAwait {
    Slot& slot;
    bool sent;
    bool await_ready() const noexcept { return !sent; }
    void await_suspend(std::coroutine_handle<> h) noexcept { slot.waiter_ = h; }
    // The reply with SEQUENCE's result consumed; status is SEQUENCE's status when that failed.
    CompoundReply await_resume();
  };
  struct NullAwait {
    Slot& slot;
    bool sent;
    bool await_ready() const noexcept { return !sent; }
    void await_suspend(std::coroutine_handle<> h) noexcept { slot.waiter_ = h; }
    void await_resume();
  };

  // Sends `b` (made by begin()) now; co_await the result for the reply.
  CompoundAwait call(const CompoundBuilder& b);
  // Sends pre-encoded COMPOUND arguments whose SEQUENCE already names this slot and the
  // sequence id next_seqid() handed out (the WRITE templates). The bytes are sent from where
  // they are, not copied: they must stay unchanged until the reply has come.
  CompoundAwait call_encoded(std::span<const uint8_t> args);
  uint32_t next_seqid();
  // A NULL RPC (no slot semantics; the slot only bounds how many are in flight).
  NullAwait null();

  // Records a failed status under `what`; returns true when the status is NFS4_OK.
  bool check(nfsstat4 status, const std::string& what);

 private:
  friend class Connection;
  CompoundAwait submit(std::span<const uint8_t> args, bool by_reference);

  Connection* conn_;
  uint32_t id_;
  std::coroutine_handle<> waiter_;
  rpc::RpcReply reply_;
  bool failed_ = false;
  Clock::time_point sent_at_;
};

class Connection {
 public:
  Connection(int index, const std::string& host, uint16_t port, uint32_t uid, uint32_t gid);

  // EXCHANGE_ID + CREATE_SESSION (+ RECLAIM_COMPLETE) asking for `slots` slots and room for
  // `max_message` bytes per request and reply; the server may grant fewer.
  void establish(uint32_t slots, uint32_t max_message);
  void destroy();

  int index() const { return index_; }
  NfsClient& nfs() { return nfs_; }
  std::vector<std::unique_ptr<Slot>>& slots() { return slots_; }
  PhaseStats& stats() { return stats_; }
  bool broken() const { return broken_; }

  // Runs one coroutine per slot (the first `nslots`) until all have finished.
  void run(const std::function<Task(Connection&, Slot&)>& body, size_t nslots);

 private:
  friend class Slot;
  // Appends one RPC call record to the send queue and returns its xid (0 when broken).
  // `by_reference`: the queue points at `args` instead of copying them.
  uint32_t queue_call(uint32_t proc, std::span<const uint8_t> args, bool by_reference = false);
  bool flush();
  bool track(Slot& s, uint32_t xid);
  void drive();
  void fail_all(const std::string& why);

  int index_;
  NfsClient nfs_;
  std::vector<uint8_t> cred_;  // AUTH_SYS body, as NfsClient's own RpcClient sends it
  uint32_t next_xid_ = 0;
  xdr::ByteBuffer pending_;  // call records not yet written
  // Arguments queued by reference: each goes out after the bytes of pending_ before `at`.
  struct Borrowed {
    size_t at;
    std::span<const uint8_t> bytes;
  };
  std::vector<Borrowed> borrowed_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::unordered_map<uint32_t, Slot*> inflight_;
  PhaseStats stats_;
  bool broken_ = false;
};

struct PhaseResult {
  std::string name;
  std::string unit;  // what `ops` counts
  double elapsed_s = 0;
  double client_cpu_s = 0;   // this process, all threads
  double server_cpu_s = -1;  // the server process, when its pid was given (same machine)
  PhaseStats stats;
};

// CPU seconds (user + system) used so far by process `pid` (0 = this process); -1 if unknown.
double process_cpu_seconds(int pid);

// Runs `body` on every connection at once (one thread each, started together) and returns
// the merged statistics and the wall time from start to the last connection's end.
PhaseResult run_phase(std::vector<std::unique_ptr<Connection>>& conns, const std::string& name,
                      const std::string& unit, const std::function<Task(Connection&, Slot&)>& body,
                      size_t nslots, int server_pid = 0);

}  // namespace dfs::bench
