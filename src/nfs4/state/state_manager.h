#pragma once
// All NFSv4.1 state of the server: client records, sessions and the connections bound to
// them, stateids, open and lock owners, share reservations, byte-range locks and leases.
// Protocol decisions (which nfsstat4 a request gets) are made here; the ops only translate
// arguments and results.
//
// Locking, designed so that clients that share nothing in NFS terms share no lock word:
// - clients_mu_ guards client records and which sessions exist (EXCHANGE_ID, CREATE_SESSION,
//   DESTROY_*, the reaper, the control plane); no per-request path takes it.
// - sessions_ (SessionTable) finds a session for SEQUENCE under one of 64 shard locks; each
//   session's slot table and bindings have the session's own mutex.
// - open and lock state lives in 64 FileShards by file (stateful.h): OPEN, CLOSE, LOCK and
//   the READ/WRITE stateid check lock only the shard of their file.
// - The session and file shard locks are util::ReaderSlotsSharedMutex: a SEQUENCE or a
//   stateid check takes its shard shared and writes only a slot of its own thread's, so
//   clients whose sessions or files share a shard (many clients reading one file) still
//   share no written cache line; OPEN, CLOSE and LOCK pay for that by reading every slot.
// - conn_mu_ maps connections to the sessions they are bound to (taken when a binding
//   appears or goes, not per request).
// Order: clients_mu_, then a session's mu, then conn_mu_; clients_mu_, then a file shard.

#include <array>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <thread>
#include <unordered_map>
#include <vector>

#include "nfs4/op_types.h"
#include "nfs4/settings.h"
#include "nfs4/state/client.h"
#include "nfs4/state/client_store.h"
#include "nfs4/state/grace.h"
#include "nfs4/state/session.h"
#include "nfs4/state/session_table.h"
#include "nfs4/state/stateful.h"
#include "rpc/connection.h"
#include "util/spinning_shared_mutex.h"

namespace dfs::nfs4::state {

// Why a session or client went away (for metrics and logs).
enum class EndReason : uint8_t { kDestroyed, kExpired, kEvicted, kReplaced };

// A delegation being recalled: whom to send CB_RECALL (or CB_NOTIFY_LOCK) to, for what.
struct Recall {
  uint64_t clientid = 0;
  SessionId session{};
  Stateid stateid;
  std::vector<uint8_t> fh;
};

// What another client's access means for a delegation (§10.4.1 conflicts): reading data
// conflicts with write delegations; writing data, opening for write, changing attributes or
// the file's names conflicts with every delegation.
enum class DelegAccess : uint8_t { kRead, kWrite, kChange };

// Why a delegation was recalled (metrics labels).
enum class RecallReason : uint8_t { kOpen, kIo, kSetattr, kNamespace, kRecallAny };
const char* recall_reason_name(RecallReason r);

// A blocked lock's waiter to tell (CB_NOTIFY_LOCK) that it may try again.
struct LockNotice {
  uint64_t clientid = 0;
  std::string owner;
  std::vector<uint8_t> fh;
};

struct DelegationSummary {
  Stateid stateid;
  FileKey file;
  DelegType type = DelegType::kRead;
  std::chrono::system_clock::time_point granted_at;
  bool recalled = false;
  bool revoked = false;
};

// The budgets a request can find full (dittofs_nfs_budget_refusals_total{budget}).
enum class Budget : uint8_t { kClients, kLockOwners, kLocks, kReplyCache };
const char* budget_name(Budget b);

// Why a connection was turned away or shed (dittofs_nfs_connections_rejected_total).
enum class RejectReason : uint8_t { kSessionLimit, kWrongCred };
const char* reject_reason_name(RejectReason r);

class StateObserver {
 public:
  virtual ~StateObserver() = default;
  virtual void session_created(const Session&) {}
  virtual void session_ended(const Session&, EndReason) {}
  virtual void client_created(const ClientRecord&) {}
  virtual void client_ended(const ClientRecord&, EndReason) {}
  // A connection was bound to a session, or its direction changed to `dir`.
  virtual void connection_bound(const Session&, ConnDirection dir) { (void)dir; }
  virtual void connection_unbound(const Session&, UnbindReason why) { (void)why; }
  virtual void binding_rejected(RejectReason why) { (void)why; }
  virtual void delegation_granted(DelegType type) { (void)type; }
  virtual void delegation_recalled(RecallReason why) { (void)why; }
  virtual void delegation_revoked() {}
  virtual void budget_refused(Budget b) { (void)b; }
};

// What SEQUENCE decided (§18.46.3).
struct SequenceOutcome {
  nfsstat4 status = NFS4_OK;
  bool replay = false;  // `cached_reply` holds the reply to send again
  xdr::ByteBuffer cached_reply;
  std::shared_ptr<Session> session;
};

// Read-only summaries for the control plane and metrics.
struct ClientSummary {
  uint64_t id = 0;
  std::string owner;
  std::string peer;
  uint32_t minor_version = 1;
  bool confirmed = false;
  double lease_remaining_s = 0;
  // Its lease ran out and it is kept until its state conflicts (a courtesy client, §8.4.3).
  bool courtesy = false;
  size_t sessions = 0;
  std::string impl_name;
  state_protect_how4 state_protection = SP4_NONE;
};
struct BindingSummary {
  uint64_t connection_id = 0;
  ConnDirection dir = ConnDirection::kFore;
  std::chrono::system_clock::time_point bound_at;
  std::shared_ptr<rpc::Connection> conn;  // null once the connection has gone
};
struct SessionSummary {
  SessionId id{};
  uint64_t clientid = 0;
  std::chrono::system_clock::time_point created_at;
  uint32_t flags = 0;
  ChannelAttrs fore;
  ChannelAttrs back;
  uint32_t cb_program = 0;
  size_t fore_connections = 0;  // bound fore or both
  size_t back_connections = 0;  // bound back or both
  size_t slots_in_use = 0;
  std::vector<BindingSummary> connections;
};

class StateManager {
 public:
  explicit StateManager(SettingsHolder& settings);
  ~StateManager();
  StateManager(const StateManager&) = delete;
  StateManager& operator=(const StateManager&) = delete;

  void set_observer(StateObserver* o) { observer_ = o; }
  // Told when a file gets its first open and loses its last (called with the file's shard
  // locked; it must not call back into the StateManager).
  void set_file_open_hook(std::function<void(const FileKey&, bool opened)> hook) {
    file_open_hook_ = std::move(hook);
  }
  // Run by the reaper once a second, after its own work (the NFS layer's housekeeping:
  // CB_RECALL_ANY near max_delegations). Set before start().
  void set_periodic_hook(std::function<void()> hook) { periodic_hook_ = std::move(hook); }
  // Starts the lease reaper.
  void start();
  void stop();

  // ---- client ids and sessions (§18.35, §18.36, §18.37, §18.50, §18.34) ----
  nfsstat4 exchange_id(const ExchangeIdArgs& args, const Principal& principal,
                       const std::string& peer, uint32_t minor_version, ExchangeIdOk& out);
  nfsstat4 create_session(const CreateSessionArgs& args, const Principal& principal,
                          const std::shared_ptr<rpc::Connection>& conn, CreateSessionOk& out);
  // `current` is the session of the compound carrying the op, if any.
  nfsstat4 destroy_session(const SessionId& id, const Principal& principal,
                           const std::shared_ptr<rpc::Connection>& conn, const Session* current);
  nfsstat4 destroy_clientid(uint64_t clientid, const Principal& principal, const Session* current);
  nfsstat4 bind_connection(const BindConnArgs& args, const Principal& principal,
                           const std::shared_ptr<rpc::Connection>& conn, BindConnOk& out);
  nfsstat4 reclaim_complete(ClientRecord& client, bool one_fs);
  nfsstat4 backchannel_ctl(Session& session, const BackchannelCtlArgs& args);

  // SEQUENCE: the slot and replay-cache decision. `digest` identifies the request's
  // arguments; `request_size`, `op_count` and `min_reply_size` (the reply with nothing but
  // the SEQUENCE result) are checked against the channel attributes.
  SequenceOutcome sequence(const SequenceArgs& args, uint64_t digest,
                           const std::shared_ptr<rpc::Connection>& conn, size_t request_size,
                           size_t op_count, size_t min_reply_size, SequenceOk& out);
  // Ends a request started by sequence(): releases the slot and caches `reply` if asked.
  void finish_request(Session& session, uint32_t slotid, bool cache,
                      std::span<const uint8_t> reply);
  // Drops the connection from every session it is bound to (called when it closes).
  void connection_closed(uint64_t conn_id, UnbindReason why = UnbindReason::kDisconnect);

  // ---- share state (§9) ----
  // Exclusive access to the open and lock state of `file` (its shard) for the duration of an
  // OPEN, whose file system work and state change must be atomic with respect to other
  // OPENs of the file.
  std::unique_lock<util::ReaderSlotsSharedMutex> lock_file(const FileKey& file) {
    return std::unique_lock(shards_[shard_index(file)].mu);
  }
  // Would an open of `file` with this access/deny by `owner` conflict with other owners?
  // (lock_file(file) held.)
  nfsstat4 check_share_locked(const FileKey& file, const OwnerKey& owner, uint32_t access,
                              uint32_t deny) const;
  // Records an open (or upgrades the owner's existing one); returns its stateid. `reclaim`:
  // an OPEN with CLAIM_PREVIOUS, allowed before the client's RECLAIM_COMPLETE.
  // (lock_file(file) held.)
  nfsstat4 open_locked(ClientRecord& client, const OwnerKey& owner, const FileKey& file,
                       uint32_t access, uint32_t deny, Stateid& out, bool reclaim = false);
  nfsstat4 close(ClientRecord& client, const Stateid& stateid, const FileKey& file, Stateid& out);
  nfsstat4 open_downgrade(ClientRecord& client, const OpenDowngradeArgs& args, const FileKey& file,
                          Stateid& out);
  // Checks a stateid presented for READ/WRITE/SETATTR(size) on `file`. Another client's
  // delegation that conflicts is recalled (`recalls` says whom to call) and the I/O gets
  // NFS4ERR_DELAY until it is returned or revoked.
  nfsstat4 check_io(const ClientRecord* client, const Stateid& stateid, const FileKey& file,
                    bool write, std::vector<Recall>* recalls = nullptr);

  // ---- delegations (§10.2, §10.4) ----
  // Delegations of other clients that conflict with `client` doing `what` to `file`: each is
  // recalled (added to `recalls` the first time) and the access must wait (NFS4ERR_DELAY);
  // one recalled more than a lease ago is revoked and no longer counts.
  // (lock_file(file) held.)
  nfsstat4 delegation_conflict_locked(const ClientRecord* client, const FileKey& file,
                                      DelegAccess what, RecallReason why,
                                      std::vector<Recall>& recalls);
  // The same, taking the file's lock.
  nfsstat4 delegation_conflict(const ClientRecord* client, const FileKey& file, DelegAccess what,
                               RecallReason why, std::vector<Recall>& recalls);
  // A write delegation another client holds on `file` and has not been asked to return:
  // whom a GETATTR of size or change asks with CB_GETATTR (§10.4.3).
  std::optional<Recall> write_delegation_holder(const ClientRecord* asking, const FileKey& file);
  // Why `client` cannot be given a delegation of `type` on `file` now; nullopt if it can.
  // (lock_file(file) held.)
  std::optional<why_no_delegation4> delegation_refusal_locked(const ClientRecord& client,
                                                              const FileKey& file,
                                                              DelegType type) const;
  // Grants it (after delegation_refusal_locked said yes); returns its stateid.
  Stateid grant_delegation_locked(ClientRecord& client, const SessionId& session,
                                  const FileKey& file, DelegType type, std::vector<uint8_t> fh);
  // A delegation stateid presented by OPEN CLAIM_DELEGATE_CUR / CLAIM_DELEG_CUR_FH.
  nfsstat4 check_delegation_claim(const ClientRecord& client, const Stateid& stateid,
                                  const FileKey& file) const;
  nfsstat4 delegreturn(ClientRecord& client, const Stateid& stateid, const FileKey& file);
  // Revokes delegations recalled more than a lease ago (the reaper); returns how many.
  size_t revoke_overdue_delegations();
  // A CB_RECALL for this delegation failed (no answer, no path).
  void recall_failed(const Stateid& stateid);
  // Recalls to send again: delegations still recalled whose last recall failed at least
  // `interval` ago (marked as sent now).
  std::vector<Recall> recalls_to_resend(std::chrono::steady_clock::duration interval);
  // Recalls up to `n` of the oldest unrecalled delegations (CB_RECALL_ANY's fallback and
  // the reaper when delegations near max_delegations).
  size_t delegation_count() const;
  size_t delegation_count(DelegType type) const;
  std::vector<DelegationSummary> delegations(uint64_t clientid) const;
  // Clients holding delegations, with how many (for CB_RECALL_ANY).
  std::vector<std::pair<uint64_t, size_t>> delegation_holders() const;
  // A session of the client to call back on, preferring `preferred`; nullopt if none.
  std::optional<SessionId> callback_session(uint64_t clientid, const SessionId& preferred) const;

  // ---- blocked locks (§9.6, §20.11) ----
  // Remembers that `client`'s lock owner waits for a lock on `file` (a denied READW/WRITEW).
  void add_lock_waiter(const ClientRecord& client, const std::string& owner, const FileKey& file,
                       std::vector<uint8_t> fh);
  // Who to notify now that locks on `file` were released (they are forgotten).
  std::vector<LockNotice> take_lock_waiters(const FileKey& file);
  // The lock owner a lock stateid of `client` belongs to, if it is one.
  std::optional<std::string> lock_owner_of(const ClientRecord& client, const Stateid& stateid,
                                           const FileKey& file) const;

  // ---- byte-range locks (§9.1) ----
  nfsstat4 lock(ClientRecord& client, const LockArgs& args, const FileKey& file, LockResult& out);
  nfsstat4 lockt(ClientRecord& client, const LocktArgs& args, const FileKey& file,
                 LocktResult& out) const;
  nfsstat4 locku(ClientRecord& client, const LockuArgs& args, const FileKey& file, Stateid& out);

  // ---- stateid operations ----
  nfsstat4 test_stateid(const ClientRecord& client, const Stateid& stateid) const;
  nfsstat4 free_stateid(ClientRecord& client, const Stateid& stateid);

  // ---- restart recovery (§8.4) ----
  // Where the clients holding state are kept across restarts (the daemon's data directory);
  // without one, nothing is kept and a restart has no grace period.
  void set_client_store(std::unique_ptr<ClientStore> store) { client_store_ = std::move(store); }
  // Starts the grace period for the clients the store kept from the last run; reclaims at
  // its end extend it, by `max_extension` at most (GracePeriod::begin).
  void begin_grace(std::chrono::seconds length, std::chrono::seconds max_extension);
  GracePeriod grace;

  // ---- leases and administration ----
  // Expires the clients whose lease has run out; returns how many. A confirmed client that
  // holds state is kept instead, as a courtesy client (RFC 8881 §8.4.3 lets a server keep
  // the state of a client whose lease expired, as long as it does not stand in the way of
  // another client): its session and state stay, a SEQUENCE makes it an ordinary client
  // again, and it is expired when its state conflicts with another client's request (which
  // is answered NFS4ERR_DELAY meanwhile), when the client-record budget needs room, or
  // kCourtesyLimit after its lease ran out. This keeps clients that were away longer than
  // a lease (a network partition, a suspended laptop, a slow reclaim of many clients after
  // a restart) from losing their opens and locks for nothing.
  size_t reap_expired();
  static constexpr std::chrono::hours kCourtesyLimit{24};
  // Expires the courtesy clients a conflicting request asked to be rid of (the reaper runs
  // it as soon as asked), if they are still past their lease and idle; returns how many.
  size_t expire_requested();
  // Drops a client and all its state; its connections are closed. False if unknown.
  bool evict_client(uint64_t clientid);
  bool destroy_session_admin(uint64_t clientid, const SessionId& id);
  std::vector<ClientSummary> clients() const;
  std::optional<ClientSummary> client(uint64_t id) const;
  std::vector<SessionSummary> sessions(uint64_t clientid) const;
  // The connections bound to any session of the client (for draining them).
  std::vector<std::shared_ptr<rpc::Connection>> client_connections(uint64_t clientid) const;
  // The sessions a connection is bound to, with the direction of each binding.
  std::vector<std::pair<SessionId, ConnDirection>> connection_bindings(uint64_t conn_id) const;
  size_t client_count() const;
  size_t session_count() const;
  std::shared_ptr<Session> find_session(const SessionId& id) const { return sessions_.find(id); }
  // Requests being executed across all sessions (a scrape-time sum, for metrics).
  size_t slots_in_use() const;
  size_t open_count() const;
  size_t lock_count() const;

  static bool is_special(const Stateid& s);
  static bool is_anonymous(const Stateid& s);
  static bool is_bypass(const Stateid& s);

 private:
  using Clock = SteadyClock;

  std::shared_ptr<ClientRecord> find_client_locked(uint64_t id) const;
  ClientSummary summarize_locked(const ClientRecord& c) const;
  // Whether the client holds opens or locks (clients_mu_ held).
  bool has_state_locked(const ClientRecord& c) const;
  // Whether any of the client's sessions is executing a request (clients_mu_ held): a
  // client is never expired under one.
  bool request_in_flight_locked(const ClientRecord& c) const;
  // Removes a client record and everything it holds; clients_mu_ must be held exclusively.
  void purge_client_locked(const std::shared_ptr<ClientRecord>& client, EndReason why);
  // The courtesy client (lease run out, state kept, §8.4.3) away longest, other than
  // `except`, that holds a session if `with_session`; nullptr if none. clients_mu_ held.
  std::shared_ptr<ClientRecord> oldest_courtesy_locked(const ClientRecord* except,
                                                       bool with_session) const;
  void end_session_locked(std::shared_ptr<Session> s, EndReason why,
                          UnbindReason unbind);  // by value: s may be the map's own entry
  uint64_t new_clientid_locked();
  SessionId new_sessionid(uint64_t clientid);

  // ---- connection bindings (bindings.cpp) ----
  // Binds (or rebinds) `conn` to `s` in direction `dir`; s.mu held. Refuses (DELAY) a new
  // binding beyond v4_max_connections_per_session.
  nfsstat4 bind_locked(Session& s, const std::shared_ptr<rpc::Connection>& conn, ConnDirection dir);
  // Forgets one binding; s.mu held.
  void unbind_locked(Session& s, uint64_t conn_id, UnbindReason why);

  // ---- file state (opens.cpp, locks.cpp) ----
  FileShard& shard(const FileKey& file) { return shards_[shard_index(file)]; }
  const FileShard& shard(const FileKey& file) const { return shards_[shard_index(file)]; }
  // The shard a stateid names, or null if its `other` names none.
  FileShard* shard_of(const Other& other);
  const FileShard* shard_of(const Other& other) const;
  Other new_other(FileShard& sh);
  StateEntry* find_state_locked(const FileShard& sh, const Stateid& s) const;
  // Stateid validation shared by every op: ownership, kind and sequence (§8.2.2). `sh` is
  // the shard the caller locked; a stateid of another shard is not one it can find.
  nfsstat4 validate_locked(const FileShard& sh, const ClientRecord* client, const Stateid& s,
                           StateEntry*& out) const;
  OpenOwner* open_owner_locked(FileShard& sh, ClientRecord& client, const OwnerKey& key);
  LockOwner* lock_owner_locked(FileShard& sh, ClientRecord& client, const OwnerKey& key);
  void drop_open_owner_locked(FileShard& sh, OpenOwner* oo);
  void drop_lock_owner_locked(FileShard& sh, LockOwner* lo);
  void remove_open_locked(FileShard& sh, OpenState* os);
  // Removes a delegation; `revoke` keeps it as a tombstone instead (§10.2.1).
  void remove_delegation_locked(FileShard& sh, DelegState* d, bool revoke);
  void remove_lock_state_locked(FileShard& sh, LockState* ls);
  // Removes everything the client holds in every shard it has used.
  void purge_file_state(const ClientRecord& client);

  void reaper_loop();
  // Whether a client's lease has run out (it is, or is about to be, a courtesy client).
  bool lease_expired(const ClientRecord& c) const;
  // Asks the reaper to expire these courtesy clients now (a request found their state in
  // its way). Callable with any shard lock held.
  void expire_courtesy(std::vector<uint64_t> clientids) const;

  SettingsHolder& settings_;
  StateObserver* observer_ = nullptr;
  std::function<void(const FileKey&, bool)> file_open_hook_;
  std::function<void()> periodic_hook_;
  const uint32_t boot_epoch_;
  std::unique_ptr<ClientStore> client_store_;

  mutable util::SpinningSharedMutex clients_mu_;
  std::unordered_map<uint64_t, std::shared_ptr<ClientRecord>> clients_;
  SessionTable sessions_;  // changed with clients_mu_ held exclusively

  std::array<FileShard, kFileShards> shards_;
  // Worst-case bytes the sessions' reply caches may hold (slots x maxresponsesize_cached),
  // against reply_cache_budget_mb. Changed under clients_mu_.
  uint64_t reply_cache_reserved_ = 0;
  // The same by client address (the host part of the connection's peer).
  std::unordered_map<std::string, uint64_t> reply_cache_by_address_;

  // Which sessions each connection is bound to, to unbind when it closes.
  mutable std::mutex conn_mu_;
  std::unordered_map<uint64_t, std::vector<SessionId>> conn_sessions_;

  mutable std::mutex reaper_mu_;
  mutable std::condition_variable reaper_cv_;
  bool reaper_stop_ = false;
  // Courtesy clients to expire at once (expire_courtesy), under reaper_mu_.
  mutable std::vector<uint64_t> expire_now_;
  std::thread reaper_;
};

}  // namespace dfs::nfs4::state
