#pragma once
// The backchannel (RFC 8881 §2.10.3.1, §20): callbacks to NFSv4.1 clients over the
// connections they bound to their sessions for the back channel.
//
// Each session has a callback slot table of the size the client offered at CREATE_SESSION
// (at most kMaxSlots); callbacks queue per session (at most kMaxQueued) and go out as slots
// free up, each as one CB_COMPOUND whose first operation is CB_SEQUENCE, over the back
// connection that was active last (another one after a failure). Nothing waits for a reply:
// callers give a completion that runs when the reply arrives (on the reactor that read it),
// or when all attempts failed (a bounded number, each with a longer timeout than the last,
// starting at `callback_timeout`). What the client's CB_SEQUENCE says is handled as §20.9.3
// and §2.10.6 want: DELAY retries, BADSLOT shrinks the table, SEQ_MISORDERED is a fault.
// The session's flags for SEQUENCE (CB_PATH_DOWN_SESSION, BACKCHANNEL_FAULT) follow what
// happened last; a CB_NULL probe, sent when a back connection is bound, tells up front.

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "nfs4/callback_types.h"
#include "nfs4/settings.h"
#include "nfs4/state/state_manager.h"
#include "rpc/outbound_calls.h"
#include "xdr/byte_buffer.h"

namespace dfs::nfs4 {

class CallbackObserver {
 public:
  virtual ~CallbackObserver() = default;
  virtual void callback_sent(uint32_t op) { (void)op; }  // the first op after CB_SEQUENCE
  virtual void callback_failed(const std::string& reason) { (void)reason; }
  virtual void callback_retried() {}
  virtual void callback_done(std::chrono::nanoseconds elapsed) { (void)elapsed; }
};

class CallbackService {
 public:
  static constexpr size_t kMaxSlots = 16;
  static constexpr size_t kMaxQueued = 64;
  static constexpr int kMaxAttempts = 3;

  // One operation after CB_SEQUENCE: its number and its arguments, encoded.
  struct Op {
    uint32_t op = 0;
    xdr::ByteBuffer args;
  };
  struct Outcome {
    bool delivered = false;     // the client took it (CB_SEQUENCE succeeded)
    nfsstat4 status = NFS4_OK;  // the CB_COMPOUND's status, when delivered
    std::string failure;        // why not: no_path, timeout, closed, queue_full, rpc, cb_sequence,
                                // bad_reply, security, no_session, no_slot
    xdr::ByteBuffer results;    // the results after CB_SEQUENCE's
  };
  using Done = std::function<void(const Outcome&)>;

  CallbackService(state::StateManager& state, SettingsHolder& settings, rpc::OutboundCalls& calls);

  void set_observer(CallbackObserver* o) { observer_ = o; }

  // Queues one CB_COMPOUND for the session; `done` (may be empty) runs once. With a
  // `clientid`, a callback whose session goes away is sent again over another session of the
  // client (a client that destroys a session and makes a new one still gets its recall).
  // `attempts` bounds the tries (a callback someone's reply waits for gets one).
  void call(const SessionId& session, std::vector<Op> ops, Done done = nullptr,
            uint64_t clientid = 0, int attempts = kMaxAttempts);
  // CB_NULL over the session's back connection: the path is up if it is answered.
  void probe(const SessionId& session);

  // The callbacks the state layer asks for.
  void recall(const state::Recall& r);
  void notify_lock(const state::LockNotice& n);
  void recall_any(uint64_t clientid, uint32_t objects_to_keep);

  // What the holder of a write delegation says of the file (CB_GETATTR, §10.4.3).
  struct HolderAttrs {
    uint64_t change = 0;
    uint64_t size = 0;
  };
  // Asks `holder` for the file's change and size, once; `done` gets nullopt when the holder
  // could not be asked, did not answer within `callback_timeout`, or answered an error.
  void getattr(const state::Recall& holder, std::function<void(std::optional<HolderAttrs>)> done);
  // The attributes in a CB_GETATTR result (the results after CB_SEQUENCE's).
  static std::optional<HolderAttrs> decode_holder_attrs(std::span<const uint8_t> results);

  struct Status {
    uint32_t program = 0;
    size_t slots = 0;      // usable callback slots
    size_t in_flight = 0;  // callbacks sent and not answered
    size_t queued = 0;
    bool path_up = false;  // a back connection is bound and the last probe/callback worked
    bool fault = false;
    std::string last_result;  // "ok", "NFS4ERR_...", or the failure
    std::optional<std::chrono::system_clock::time_point> last_at;
    uint64_t sent = 0;
  };
  Status status(const SessionId& session) const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Request {
    std::vector<Op> ops;
    Done done;
    int attempts = 0;
    int max_attempts = kMaxAttempts;
    uint64_t avoid_conn = 0;  // the connection that failed last
    Clock::time_point started;
    uint64_t clientid = 0;  // for sending it over another session of the client
    int moves = 0;          // how often it moved to another session (bounded)
  };
  struct Channel {
    std::vector<uint32_t> slot_seq;  // last sequence id used per slot
    std::vector<bool> slot_busy;
    std::vector<bool> slot_retired;  // given up on (its sequence at the client is unknown)
    size_t usable = 0;               // slots the client has (BADSLOT lowers it)
    std::deque<Request> queue;
    std::string last_result;
    std::optional<std::chrono::system_clock::time_point> last_at;
    uint64_t sent = 0;
    bool initialized = false;
  };
  struct SessionIdHash {
    size_t operator()(const SessionId& id) const;
  };

  // Sends what the session's free slots allow.
  void pump(const SessionId& session);
  void dispatch(const SessionId& session, uint32_t slot, uint32_t seqid, Request req);
  void on_reply(const SessionId& session, uint32_t slot, uint32_t seqid, Request req,
                uint64_t conn_id, std::optional<rpc::CallReply> reply);
  // Ends a request: frees its slot (unless `retire`), records the result, runs `done`.
  void finish(const SessionId& session, uint32_t slot, bool retire, Request& req, Outcome out);
  // The request's session is gone: queue it on another session of its client; false if
  // there is none (or it moved too often already). Frees `slot` on the old session.
  bool move(const SessionId& session, uint32_t slot, Request& req);
  void set_path(const SessionId& session, bool up, bool fault = false);
  // The connection to call on, the program and the credential, from the session's state.
  struct Route {
    std::shared_ptr<rpc::Connection> conn;
    uint32_t program = 0;
    rpc::AuthFlavor flavor = rpc::AuthFlavor::kNone;
    xdr::ByteBuffer cred;
    uint32_t minor = 1;
  };
  std::optional<Route> route(const SessionId& session, uint64_t avoid, std::string& why);
  static rpc::OutboundMessage encode_call(uint32_t xid, const Route& r, uint32_t procedure,
                                          const xdr::ByteBuffer& args);

  state::StateManager& state_;
  SettingsHolder& settings_;
  rpc::OutboundCalls& calls_;
  CallbackObserver* observer_ = nullptr;
  mutable std::mutex mu_;
  std::unordered_map<SessionId, Channel, SessionIdHash> channels_;
};

}  // namespace dfs::nfs4
