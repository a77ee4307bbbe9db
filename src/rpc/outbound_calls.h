#pragma once
// Calls this server sends to its clients over connections they opened (the NFSv4.1
// backchannel, RFC 8881 §2.10.3.1): each call gets an xid, its reply is told apart from the
// client's calls by the message type (the dispatcher hands REPLY records here) and matched
// by xid, and every call ends exactly once: with its reply, or without one when its time is
// up or its connection closes. Nothing waits: the completion runs on whichever thread ended
// the call (the reactor that read the reply, the timer, the thread that saw the close), and
// must not block.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <unordered_map>

#include "rpc/connection.h"
#include "rpc/message.h"
#include "xdr/byte_buffer.h"

namespace dfs::rpc {

// A reply to an outbound call: its header, and the record (results after body_offset).
struct CallReply {
  ReplyHeader header;
  xdr::ByteBuffer record;
  size_t body_offset = 0;
  std::span<const uint8_t> body() const { return record.span().subspan(body_offset); }
  bool accepted_success() const {
    return header.stat == ReplyStat::kAccepted && header.accept == AcceptStat::kSuccess;
  }
};

// Why a call ended without a reply.
enum class CallFailure : uint8_t { kTimeout, kConnectionClosed, kNotSent };

class OutboundCalls {
 public:
  using Done = std::function<void(std::optional<CallReply> reply, CallFailure why)>;

  OutboundCalls();
  ~OutboundCalls();
  OutboundCalls(const OutboundCalls&) = delete;
  OutboundCalls& operator=(const OutboundCalls&) = delete;

  // Starts and stops the timer thread that ends calls whose time is up.
  void start();
  void stop();

  // A fresh xid (random start, then counting; never 0).
  uint32_t next_xid();
  // Sends the encoded CALL `msg` (with xid `xid`) on `conn`. `done` runs once; if the call
  // could not be sent it runs before send() returns (kNotSent) and send() returns false.
  bool send(const std::shared_ptr<Connection>& conn, uint32_t xid, OutboundMessage msg,
            std::chrono::milliseconds timeout, Done done);
  // A REPLY record that arrived on `conn` (the dispatcher's reply sink). False when no call
  // with that xid waits on that connection: the reply is dropped and counted.
  bool on_reply(const std::shared_ptr<Connection>& conn, uint32_t xid,
                std::span<const uint8_t> record);
  // Ends the calls waiting on a closed connection.
  void connection_closed(uint64_t conn_id);

  size_t pending() const;
  uint64_t unmatched_replies() const { return unmatched_.load(std::memory_order_relaxed); }
  // Told of every reply that matched no call (metrics); set before replies can arrive.
  void set_unmatched_hook(std::function<void()> hook) { unmatched_hook_ = std::move(hook); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Pending {
    uint64_t conn_id = 0;
    Clock::time_point deadline;
    Done done;
  };
  void timer_loop();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<uint32_t, Pending> calls_;
  std::multimap<Clock::time_point, uint32_t> deadlines_;
  std::atomic<uint32_t> next_xid_;
  std::atomic<uint64_t> unmatched_{0};
  std::function<void()> unmatched_hook_;
  bool stop_ = false;
  std::thread timer_;
};

}  // namespace dfs::rpc
