#pragma once
// A session (RFC 5661 §2.10): its channel attributes, the fore-channel slot table with its
// reply cache (exactly-once semantics, §2.10.6), and the connections bound to it with their
// direction (§2.10.3.1, §2.10.5: trunking, and the backchannel built on these bindings).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "nfs4/types.h"
#include "rpc/connection.h"
#include "xdr/byte_buffer.h"

namespace dfs::nfs4::state {

struct ClientRecord;

struct Slot {
  uint32_t seqid = 0;   // sequence id of the last request accepted on this slot
  bool used = false;    // a request was accepted (seqid 0 is then a wrapped id, §2.10.6.1)
  bool in_use = false;  // a request with `seqid` is being executed
  bool cached = false;  // `reply` holds the whole COMPOUND4res of that request
  uint64_t digest = 0;  // of the request's arguments, to tell a retry from a false retry
  xdr::ByteBuffer reply;
};

// Which channels a connection serves for a session (bit 1: fore, bit 2: back).
enum class ConnDirection : uint8_t { kFore = 1, kBack = 2, kBoth = 3 };
inline bool has_fore(ConnDirection d) {
  return static_cast<uint8_t>(d) & static_cast<uint8_t>(ConnDirection::kFore);
}
inline bool has_back(ConnDirection d) {
  return static_cast<uint8_t>(d) & static_cast<uint8_t>(ConnDirection::kBack);
}
// "fore", "back", "both" (metrics labels, the REST API).
const char* direction_name(ConnDirection d);

// Why a connection stopped being bound to a session (metrics labels, logs).
enum class UnbindReason : uint8_t { kExplicit, kDisconnect, kSessionDestroy, kReaper, kDrain };
const char* unbind_reason_name(UnbindReason r);

struct Binding {
  std::weak_ptr<rpc::Connection> conn;
  ConnDirection dir = ConnDirection::kFore;
  std::chrono::system_clock::time_point bound_at;
};

class Session {
 public:
  Session(SessionId id, std::shared_ptr<ClientRecord> client, ChannelAttrs fore, ChannelAttrs back,
          uint32_t flags, uint32_t cb_program, std::vector<CallbackSecParms> cb_sec);

  const SessionId id;
  const std::shared_ptr<ClientRecord> client;
  const ChannelAttrs fore;
  const ChannelAttrs back;
  const uint32_t flags;
  // Worst-case reply cache charged to the server's budget (slots x maxresponsesize_cached).
  uint64_t reply_cache_reserved = 0;
  std::string reply_cache_address;  // the client address it is charged to
  const std::chrono::system_clock::time_point created_at;

  // Guards everything below (slots, bindings, callback parameters).
  std::mutex mu;
  std::vector<Slot> slots;
  std::map<uint64_t, Binding> connections;  // by connection id
  uint32_t cb_program;
  std::vector<CallbackSecParms> cb_sec;
  // The client asked for a back channel (CONN_BACK_CHAN at creation, or a back binding
  // since): SEQUENCE then reports when none is left (SEQ4_STATUS_CB_PATH_DOWN_SESSION).
  bool wants_back_channel = false;
  // What the callback service last learned of the back channel (CB_NULL probe, callbacks):
  // down after a probe or callback failed for want of a working connection; a fault after
  // the client lost track of a callback slot (SEQ4_STATUS_BACKCHANNEL_FAULT, §18.46.3).
  bool cb_path_down = false;
  bool cb_fault = false;
  bool destroyed = false;

  // Requests being executed on this session right now (DESTROY_SESSION waits for none).
  size_t in_flight_locked() const;
  bool has_back_channel_locked() const;
  size_t fore_connections_locked() const;
};

}  // namespace dfs::nfs4::state
