#pragma once
// A small blocking ONC RPC client over TCP: builds calls, sends them as records and matches
// replies by xid, with several calls allowed in flight. Used by the project's own NFS test
// client and load generator, and by the daemon to register with a local rpcbind.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rpc/auth.h"
#include "rpc/message.h"
#include "xdr/byte_buffer.h"

namespace dfs::rpc {

struct RpcReply {
  uint32_t xid = 0;
  ReplyHeader header;
  xdr::ByteBuffer record;  // the whole reply record
  size_t body_offset = 0;  // where the procedure's results start in `record`
  std::span<const uint8_t> body() const { return record.span().subspan(body_offset); }
  bool accepted_success() const {
    return header.stat == ReplyStat::kAccepted && header.accept == AcceptStat::kSuccess;
  }
};

// A call the server sent on this connection (the NFSv4.1 backchannel).
struct IncomingCall {
  CallHeader header;
  xdr::ByteBuffer record;
  size_t args_offset = 0;
  std::span<const uint8_t> args() const { return record.span().subspan(args_offset); }
};

class RpcClient {
 public:
  RpcClient() = default;
  ~RpcClient();
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;
  RpcClient(RpcClient&& o) noexcept;

  // Connects (from the local address `from` when given); throws std::runtime_error on
  // failure.
  void connect(const std::string& host, uint16_t port, const std::string& from = "");
  bool connected() const { return fd_ >= 0; }
  void close();
  int fd() const { return fd_; }

  void set_auth_sys(uint32_t uid, uint32_t gid, std::vector<uint32_t> groups = {},
                    std::string machine = "dfs-client");
  void set_auth_none();
  void set_timeout(std::chrono::milliseconds t) { timeout_ = t; }

  // Sends a call and returns its xid without waiting.
  uint32_t send_call(uint32_t prog, uint32_t vers, uint32_t proc, std::span<const uint8_t> args);
  // Waits for the reply to `xid`; nullopt on timeout or a closed connection.
  std::optional<RpcReply> wait_reply(uint32_t xid);
  // Waits for whichever reply comes next.
  std::optional<RpcReply> wait_any();
  // Call and wait.
  std::optional<RpcReply> call(uint32_t prog, uint32_t vers, uint32_t proc,
                               std::span<const uint8_t> args);

  // ---- calls from the server on this connection (backchannel) ----
  // What to do with a call that arrives while this client waits for something: the handler
  // returns the results to answer with (an accepted SUCCESS reply), or nullopt to leave it
  // unanswered. Without a handler, calls are kept for read_call().
  using CallHandler = std::function<std::optional<xdr::ByteBuffer>(const IncomingCall&)>;
  void set_call_handler(CallHandler h) { handler_ = std::move(h); }
  // The next call from the server (one kept earlier, or the next to arrive; replies that
  // arrive meanwhile are kept for their waiters); nullopt on timeout or a closed connection.
  std::optional<IncomingCall> read_call();
  // Answers a call with an accepted reply: SUCCESS and `results`, or another accept_stat.
  bool send_reply(uint32_t xid, std::span<const uint8_t> results,
                  AcceptStat stat = AcceptStat::kSuccess);

  // Raw access for malformed-input tests: bytes as they are (no record marking added).
  bool send_raw(std::span<const uint8_t> bytes);
  // One record as it arrives, any type; nullopt on timeout / EOF.
  std::optional<xdr::ByteBuffer> read_record();
  // True if the server closed the connection (EOF seen) within the timeout.
  bool wait_closed();

 private:
  bool fill();  // reads more bytes; false on EOF/error/timeout
  std::optional<RpcReply> parse(xdr::ByteBuffer&& rec);
  static bool is_reply(const xdr::ByteBuffer& rec);
  // A record that is not a reply: a call from the server, handled or kept.
  void take_call(xdr::ByteBuffer&& rec);

  int fd_ = -1;
  uint32_t next_xid_ = 0x10000;
  AuthFlavor flavor_ = AuthFlavor::kNone;
  std::vector<uint8_t> cred_body_;
  std::chrono::milliseconds timeout_{10000};
  xdr::ByteBuffer rbuf_;
  std::map<uint32_t, RpcReply> early_;  // replies that came while waiting for another xid
  std::deque<IncomingCall> calls_;      // calls from the server not handled yet
  CallHandler handler_;
};

}  // namespace dfs::rpc
