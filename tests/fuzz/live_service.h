#pragma once
// A whole NFSv4.1 server in-process, without a transport: one in-memory share at /export,
// the NFS program behind the RPC dispatcher, and a loopback connection (loopback.h) over
// which a client has a session. Built fresh for each fuzz input, so an input does the same
// thing every time it runs and a crash file reproduces alone.

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "loopback.h"
#include "nfs4/program.h"
#include "nfs4/service.h"
#include "rpc/dispatcher.h"
#include "vfs/namespace.h"

namespace dfs::fuzz {

class LiveServer {
 public:
  // What CREATE_SESSION asks for: replies stay small enough for the loopback socket.
  static constexpr uint32_t kMaxResponse = 64 * 1024;
  static constexpr uint32_t kCallbackProgram = 0x40000000;

  LiveServer();
  ~LiveServer();

  nfs4::Nfs4Service& service() { return *service_; }
  rpc::Dispatcher& dispatcher() { return dispatcher_; }
  Loopback& loopback() { return *loopback_; }

  // EXCHANGE_ID, CREATE_SESSION (with the connection for the back channel too if asked,
  // offering `back_slots` callback slots) and RECLAIM_COMPLETE. False if any failed.
  bool establish(bool back_channel, uint32_t back_slots = 2);
  uint64_t clientid() const { return clientid_; }
  const nfs4::SessionId& sessionid() const { return sessionid_; }

  using Records = std::vector<std::vector<uint8_t>>;
  // Runs `args` (COMPOUND4args) as an NFSv4 COMPOUND call from root over AUTH_SYS and
  // returns the replies the server sent (one, if all is well).
  Records compound(std::span<const uint8_t> args);
  // Hands the dispatcher a whole RPC record (a call, or a reply to a callback) and returns
  // the replies the server sent. Calls it sent meanwhile (callbacks) go to server_calls().
  Records record(std::span<const uint8_t> rpc_record);
  // Callbacks the server sent and nobody has taken yet, oldest first.
  std::deque<std::vector<uint8_t>>& server_calls();

 private:
  vfs::Namespace ns_;
  nfs4::SettingsHolder settings_;
  std::unique_ptr<nfs4::Nfs4Service> service_;
  rpc::Dispatcher dispatcher_;
  std::unique_ptr<Loopback> loopback_;
  std::deque<std::vector<uint8_t>> server_calls_;
  Records replies_;  // read from the loopback while looking for calls
  uint32_t next_xid_ = 1;
  uint64_t clientid_ = 0;
  nfs4::SessionId sessionid_{};
};

// The results of a COMPOUND reply: the RPC header checked (accepted, SUCCESS), then status,
// tag and the count of results, the decoder left at the first result.
struct CompoundReplyHead {
  uint32_t xid = 0;
  nfs4::nfsstat4 status = nfs4::NFS4_OK;
  uint32_t count = 0;
};
bool read_compound_reply(std::span<const uint8_t> record, CompoundReplyHead& head,
                         xdr::Decoder& results);

}  // namespace dfs::fuzz
