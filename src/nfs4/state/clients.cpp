// Client ids and sessions: EXCHANGE_ID (§18.35) with state protection (§2.10.8.3),
// CREATE_SESSION (§18.36), DESTROY_CLIENTID (§18.50), RECLAIM_COMPLETE (§18.51), leases
// (§8.3) and administrative eviction. Connection bindings are in bindings.cpp.

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "nfs4/state/state_manager.h"
#include "vfs/pending_sync.h"

namespace dfs::nfs4::state {
namespace {

// Smallest request and reply a session must allow: a SEQUENCE plus a small op (§18.36.3
// lets the server refuse attributes it cannot work with: NFS4ERR_TOOSMALL).
constexpr uint32_t kMinChannelMessage = 256;
// The cached reply size the reply-cache budget does not go below (a CREATE_SESSION or an OPEN
// reply with its attributes fits).
constexpr uint32_t kMinCachedReply = 4096;

// 0 means a sixteenth of the machine's memory.
uint64_t reply_cache_budget(const Settings& s) {
  if (s.reply_cache_budget_mb) return uint64_t{s.reply_cache_budget_mb} << 20;
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return uint64_t{1} << 30;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) / 16;
}

uint32_t make_boot_epoch() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(now).count());
}

// Unpredictable bytes from the kernel: one client must not be able to guess another's
// client id or session id (§2.10.8.3 describes the attacks a guessable id allows).
void random_bytes(void* out, size_t n) {
  auto* p = static_cast<uint8_t*>(out);
  while (n > 0) {
    ssize_t got = ::getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed");
    }
    p += got;
    n -= static_cast<size_t>(got);
  }
}

// "10.0.0.1:812" -> "10.0.0.1", "[::1]:812" -> "::1": the host part of a peer address.
std::string peer_host(const std::string& peer) {
  std::string host = peer.substr(0, peer.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

}  // namespace

const char* budget_name(Budget b) {
  switch (b) {
    case Budget::kClients:
      return "clients";
    case Budget::kLockOwners:
      return "lock_owners";
    case Budget::kLocks:
      return "locks";
    case Budget::kReplyCache:
      return "reply_cache";
  }
  return "clients";
}

const char* reject_reason_name(RejectReason r) {
  switch (r) {
    case RejectReason::kSessionLimit:
      return "session_limit";
    case RejectReason::kWrongCred:
      return "wrong_cred";
  }
  return "session_limit";
}

StateManager::StateManager(SettingsHolder& settings)
    : settings_(settings), boot_epoch_(make_boot_epoch()) {}

StateManager::~StateManager() {
  stop();
  // Sessions and their client records point at each other; break the cycles.
  std::unique_lock lock(clients_mu_);
  for (auto& [id, c] : clients_)
    c->sessions.clear();
}

void StateManager::start() {
  reaper_stop_ = false;
  reaper_ = std::thread([this] { reaper_loop(); });
}

void StateManager::stop() {
  {
    std::lock_guard lock(reaper_mu_);
    reaper_stop_ = true;
  }
  reaper_cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
}

void StateManager::reaper_loop() {
  std::unique_lock lock(reaper_mu_);
  auto next_round = Clock::now();
  while (!reaper_stop_) {
    reaper_cv_.wait_until(lock, next_round + std::chrono::seconds(1),
                          [this] { return reaper_stop_ || !expire_now_.empty(); });
    if (reaper_stop_) break;
    lock.unlock();
    // Courtesy clients in another client's way go first, and at once: that client is
    // retrying meanwhile.
    if (size_t n = expire_requested()) {
      spdlog::info("expired {} courtesy client(s) whose state another client needed", n);
    }
    if (Clock::now() >= next_round + std::chrono::seconds(1)) {
      next_round = Clock::now();
      size_t n = reap_expired();
      if (n) spdlog::info("expired {} client(s) whose lease ran out", n);
      revoke_overdue_delegations();
      if (periodic_hook_) periodic_hook_();
    }
    lock.lock();
  }
}

bool StateManager::lease_expired(const ClientRecord& c) const {
  return Clock::now() - c.last_renew() > std::chrono::seconds(settings_.get()->lease_time);
}

void StateManager::expire_courtesy(std::vector<uint64_t> clientids) const {
  if (clientids.empty()) return;
  {
    std::lock_guard lock(reaper_mu_);
    expire_now_.insert(expire_now_.end(), clientids.begin(), clientids.end());
  }
  reaper_cv_.notify_all();
}

size_t StateManager::expire_requested() {
  std::vector<uint64_t> ids;
  {
    std::lock_guard lock(reaper_mu_);
    ids.swap(expire_now_);
  }
  if (ids.empty()) return 0;
  std::unique_lock lock(clients_mu_);
  size_t n = 0;
  for (uint64_t id : ids) {
    auto c = find_client_locked(id);
    // Back meanwhile (a SEQUENCE renewed it), or busy with a request: not expired.
    if (!c || !lease_expired(*c) || request_in_flight_locked(*c)) continue;
    spdlog::info("courtesy client {:#x} ({}) expired: another client needs its state", c->id,
                 c->peer);
    purge_client_locked(c, EndReason::kExpired);
    ++n;
  }
  return n;
}

std::shared_ptr<ClientRecord> StateManager::find_client_locked(uint64_t id) const {
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : it->second;
}

uint64_t StateManager::new_clientid_locked() {
  for (;;) {
    uint64_t id = 0;
    random_bytes(&id, sizeof id);
    if (id != 0 && !clients_.count(id)) return id;
  }
}

SessionId StateManager::new_sessionid(uint64_t clientid) {
  // The client id, then 64 random bits (which also pick the session's shard).
  SessionId sid{};
  for (int i = 0; i < 8; ++i)
    sid[i] = static_cast<uint8_t>(clientid >> (56 - 8 * i));
  random_bytes(sid.data() + 8, 8);
  return sid;
}

bool StateManager::request_in_flight_locked(const ClientRecord& c) const {
  for (const auto& [sid, s] : c.sessions) {
    std::lock_guard slock(s->mu);
    if (s->in_flight_locked() > 0) return true;
  }
  return false;
}

bool StateManager::has_state_locked(const ClientRecord& c) const {
  const uint64_t mask = c.file_shards.load(std::memory_order_acquire);
  for (size_t i = 0; i < kFileShards; ++i) {
    if (!(mask & (uint64_t{1} << i))) continue;
    const FileShard& sh = shards_[i];
    std::shared_lock lock(sh.mu);
    auto it = sh.by_client.find(c.id);
    if (it != sh.by_client.end() && !it->second.empty()) return true;
  }
  return false;
}

nfsstat4 StateManager::exchange_id(const ExchangeIdArgs& args, const Principal& principal,
                                   const std::string& peer, uint32_t minor_version,
                                   ExchangeIdOk& out) {
  if (args.flags & ~EXCHGID4_FLAG_MASK_A) return NFS4ERR_INVAL;
  if (args.state_protect.how == SP4_SSV) return NFS4ERR_ENCR_ALG_UNSUPP;
  if (args.clientowner.ownerid.empty()) return NFS4ERR_INVAL;

  std::unique_lock lock(clients_mu_);
  std::shared_ptr<ClientRecord> conf, unconf;
  for (const auto& [id, c] : clients_) {
    if (c->owner != args.clientowner.ownerid) continue;
    (c->confirmed ? conf : unconf) = c;
  }
  const bool update = args.flags & EXCHGID4_FLAG_UPD_CONFIRMED_REC_A;
  std::shared_ptr<ClientRecord> result;
  if (update) {
    // Cases 6-8 (§18.35.5): update an existing confirmed record.
    if (!conf) return NFS4ERR_NOENT;
    // Case 8 matches whatever the principal ({ownerid, old_verifier, *, ...}), so the
    // verifier is checked first; case 9 is the right verifier from another principal.
    if (conf->verifier != args.clientowner.verifier) return NFS4ERR_NOT_SAME;
    if (!(conf->principal == principal)) return NFS4ERR_PERM;
    result = conf;
  } else if (conf && conf->verifier == args.clientowner.verifier && conf->principal == principal) {
    result = conf;  // case 2: the same client asking again
  } else {
    if (conf && !(conf->principal == principal)) {
      // Case 3: another principal. Its record is in use while it holds state under a running
      // lease; otherwise (no state, or the lease expired) it is replaced at once. With
      // SP4_MACH_CRED this is also what keeps anyone but the machine credential from taking
      // the owner over (§18.35.3).
      // As in reap_expired: not expired under a request.
      const bool expired = lease_expired(*conf) && !request_in_flight_locked(*conf);
      if ((!conf->sessions.empty() || has_state_locked(*conf)) && !expired) {
        return NFS4ERR_CLID_INUSE;
      }
      purge_client_locked(conf, EndReason::kReplaced);
    }
    // Cases 1, 4 and 5: a new unconfirmed record replaces any earlier unconfirmed one; a
    // confirmed one (a rebooted client) stays until the new record is confirmed.
    if (unconf) purge_client_locked(unconf, EndReason::kReplaced);
    // The client-record budget: when full, the oldest unconfirmed record (one that never made
    // a session) makes room; with none, the client is asked to come back later.
    if (clients_.size() >= settings_.get()->max_clients) {
      // A courtesy client (lease run out) goes first, then an unconfirmed record.
      std::shared_ptr<ClientRecord> oldest = oldest_courtesy_locked(nullptr, false);
      for (const auto& [id, c] : clients_) {
        if (oldest && oldest->confirmed) break;
        if (!c->confirmed && (!oldest || c->last_renew() < oldest->last_renew())) oldest = c;
      }
      if (!oldest) {
        if (observer_) observer_->budget_refused(Budget::kClients);
        return NFS4ERR_DELAY;
      }
      purge_client_locked(oldest, EndReason::kReplaced);
    }
    auto rec = std::make_shared<ClientRecord>();
    rec->id = new_clientid_locked();
    rec->owner = args.clientowner.ownerid;
    rec->verifier = args.clientowner.verifier;
    rec->principal = principal;
    rec->peer = peer;
    rec->minor_version = minor_version;
    if (!args.client_impl_id.empty()) rec->impl_name = args.client_impl_id[0].name;
    if (args.state_protect.how == SP4_MACH_CRED) {
      // §18.35.3: the principal of this request is the machine credential; the operations
      // the client asked to have enforced are enforced (which includes whatever it asked for
      // from the set the RFC makes mandatory), and the ones it may send with the machine
      // credential are allowed (stateids are not bound to principals here, so every
      // operation already is).
      rec->protect.how = SP4_MACH_CRED;
      rec->protect.must_enforce = args.state_protect.mach_ops.must_enforce;
      rec->protect.must_allow = args.state_protect.mach_ops.must_allow;
    }
    rec->renew();
    clients_[rec->id] = rec;
    result = rec;
  }
  // We never act as a pNFS server; we also ignore the migration-support flags.
  result->exchange_flags = EXCHGID4_FLAG_USE_NON_PNFS;
  out.clientid = result->id;
  out.sequenceid = result->create_session_seq;
  out.flags = result->exchange_flags | (result->confirmed ? EXCHGID4_FLAG_CONFIRMED_R : 0);
  out.state_protect = {};
  out.state_protect.how = result->protect.how;
  if (result->protect.how == SP4_MACH_CRED) {
    out.state_protect.mach_ops.must_enforce = result->protect.must_enforce;
    out.state_protect.mach_ops.must_allow = result->protect.must_allow;
  }
  return NFS4_OK;
}

std::shared_ptr<ClientRecord> StateManager::oldest_courtesy_locked(const ClientRecord* except,
                                                                   bool with_session) const {
  std::shared_ptr<ClientRecord> oldest;
  for (const auto& [id, c] : clients_) {
    if (c.get() == except || !c->confirmed || !c->courtesy.load(std::memory_order_relaxed) ||
        !lease_expired(*c) || (with_session && c->sessions.empty())) {
      continue;
    }
    if (!oldest || c->last_renew() < oldest->last_renew()) oldest = c;
  }
  return oldest;
}

nfsstat4 StateManager::create_session(const CreateSessionArgs& args, const Principal& principal,
                                      const std::shared_ptr<rpc::Connection>& conn,
                                      CreateSessionOk& out) {
  auto settings = settings_.get();
  std::unique_lock lock(clients_mu_);
  auto client = find_client_locked(args.clientid);
  if (!client) return NFS4ERR_STALE_CLIENTID;
  // §18.36.4: an unconfirmed record is confirmed only by the principal that made it; with
  // SP4_MACH_CRED every CREATE_SESSION must come from the machine credential (§18.35.3).
  if (!client->confirmed && !(client->principal == principal)) return NFS4ERR_CLID_INUSE;
  if (client->protect.enforces(OP_CREATE_SESSION) && !(client->principal == principal)) {
    return NFS4ERR_WRONG_CRED;
  }
  if (args.flags & ~(CREATE_SESSION4_FLAG_PERSIST | CREATE_SESSION4_FLAG_CONN_BACK_CHAN |
                     CREATE_SESSION4_FLAG_CONN_RDMA)) {
    return NFS4ERR_INVAL;
  }

  // §18.36.4: the sequence id orders CREATE_SESSIONs of one client id.
  if (args.sequence + 1 == client->create_session_seq && client->last_create_session) {
    const auto& last = *client->last_create_session;
    if (last.status == NFS4_OK) out = last.ok;
    return last.status;  // a retry: the same reply again
  }
  if (args.sequence != client->create_session_seq) return NFS4ERR_SEQ_MISORDERED;

  // Only a session that was made moves the sequence on and is kept for replay: a refused
  // request changes nothing, so the client may correct it and send the same sequence id.
  auto remember = [&](nfsstat4 status) {
    if (status != NFS4_OK) return status;
    client->create_session_seq++;
    CreateSessionResult r;
    r.status = status;
    r.ok = out;
    client->last_create_session = r;
    return status;
  };

  if (args.fore.rdma_ird.size() > 1 || args.back.rdma_ird.size() > 1) return NFS4ERR_BADXDR;
  if (args.fore.maxrequests == 0 || args.back.maxrequests == 0) return remember(NFS4ERR_INVAL);
  if (args.fore.maxrequestsize < kMinChannelMessage ||
      args.fore.maxresponsesize < kMinChannelMessage ||
      args.back.maxrequestsize < kMinChannelMessage ||
      args.back.maxresponsesize < kMinChannelMessage) {
    return remember(NFS4ERR_TOOSMALL);
  }
  // The per-client session limit (§18.36.4 lists NOSPC for a server out of resources).
  if (settings->v4_max_sessions_per_client != 0 &&
      client->sessions.size() >= settings->v4_max_sessions_per_client) {
    return remember(NFS4ERR_NOSPC);
  }

  ChannelAttrs fore;
  fore.headerpadsize = 0;
  fore.maxrequestsize = std::min(args.fore.maxrequestsize, settings->max_record_size);
  fore.maxresponsesize = std::min(args.fore.maxresponsesize, settings->max_record_size);
  fore.maxresponsesize_cached =
      std::min(args.fore.maxresponsesize_cached, settings->max_record_size);
  fore.maxoperations = std::min(args.fore.maxoperations, settings->max_compound_ops);
  fore.maxrequests = std::min(args.fore.maxrequests, settings->v4_max_session_slots);
  // The reply cache's worst case (every slot caching its largest reply) must fit what is left
  // of the budget; one session may have at most a 64th of it, and the sessions made from one
  // client address an eighth, so that one host cannot take it all. The cached size comes down
  // first (not below kMinCachedReply), then the slots (§18.36.3 lets the server lower both).
  const uint64_t budget = reply_cache_budget(*settings);
  // Courtesy clients keep their sessions' share of the budget only while nobody needs it
  // (§8.4.3): a session that would get less than it asks for because the whole budget is
  // spent makes the courtesy client away longest give its sessions up, and so on.
  const uint64_t asked = std::min(uint64_t{fore.maxresponsesize_cached} * fore.maxrequests,
                                  std::max<uint64_t>(budget / 64, 1u << 20));
  size_t made_room = 0;
  while (reply_cache_reserved_ + asked > budget) {
    auto courtesy = oldest_courtesy_locked(client.get(), true);
    if (!courtesy) break;
    purge_client_locked(courtesy, EndReason::kExpired);
    ++made_room;
  }
  if (made_room > 0) {
    spdlog::info("expired {} courtesy client(s) to make room in the reply-cache budget", made_room);
  }
  const std::string address = conn ? peer_host(conn->peer()) : std::string();
  const uint64_t by_address = [&] {
    auto it = reply_cache_by_address_.find(address);
    return it == reply_cache_by_address_.end() ? uint64_t{0} : it->second;
  }();
  const uint64_t left = budget > reply_cache_reserved_ ? budget - reply_cache_reserved_ : 0;
  const uint64_t address_left = budget / 8 > by_address ? budget / 8 - by_address : 0;
  const uint64_t allowance =
      std::min({left, address_left, std::max<uint64_t>(budget / 64, 1u << 20)});
  uint64_t worst = uint64_t{fore.maxresponsesize_cached} * fore.maxrequests;
  if (worst > allowance) {
    const uint64_t per_slot = allowance / fore.maxrequests;
    fore.maxresponsesize_cached = static_cast<uint32_t>(
        std::max<uint64_t>(std::min<uint64_t>(fore.maxresponsesize_cached, per_slot),
                           std::min<uint32_t>(fore.maxresponsesize_cached, kMinCachedReply)));
    worst = uint64_t{fore.maxresponsesize_cached} * fore.maxrequests;
    if (worst > allowance) {
      fore.maxrequests = static_cast<uint32_t>(allowance / fore.maxresponsesize_cached);
      if (fore.maxrequests == 0) {
        // Spent: the session still gets one slot with the smallest cache, so that a client
        // can always mount (the number of sessions, bounded by max_clients and
        // v4_max_sessions_per_client, bounds this overdraft), and the refusal is counted.
        if (observer_) observer_->budget_refused(Budget::kReplyCache);
        fore.maxrequests = 1;
      }
      worst = uint64_t{fore.maxresponsesize_cached} * fore.maxrequests;
    }
  }
  ChannelAttrs back;
  back.headerpadsize = 0;
  back.maxrequestsize = args.back.maxrequestsize;
  back.maxresponsesize = args.back.maxresponsesize;
  back.maxresponsesize_cached = args.back.maxresponsesize_cached;
  // §18.36.3: for the back channel the server MUST NOT change ca_maxoperations or
  // ca_maxrequests (it may simply use fewer slots than the client offers).
  back.maxoperations = args.back.maxoperations;
  back.maxrequests = args.back.maxrequests;

  // Persistent reply caches and RDMA are not offered (§18.36.3: the server clears them).
  uint32_t flags = args.flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN;

  // Confirming a record retires a confirmed record of the same owner (a client that
  // rebooted: §18.35.5 case 5, completed here).
  if (!client->confirmed) {
    std::vector<std::shared_ptr<ClientRecord>> old;
    for (const auto& [id, c] : clients_) {
      if (c != client && c->confirmed && c->owner == client->owner) old.push_back(c);
    }
    for (auto& c : old)
      purge_client_locked(c, EndReason::kReplaced);
    client->confirmed = true;
    if (observer_) observer_->client_created(*client);
  }

  const SessionId sid = new_sessionid(client->id);
  auto session =
      std::make_shared<Session>(sid, client, fore, back, flags, args.cb_program, args.sec_parms);
  session->reply_cache_reserved = worst;
  session->reply_cache_address = address;
  reply_cache_reserved_ += worst;
  reply_cache_by_address_[address] += worst;
  sessions_.insert(session);
  client->sessions[sid] = session;
  client->session_count.store(static_cast<uint32_t>(client->sessions.size()));
  if (observer_) observer_->session_created(*session);
  {
    // The connection CREATE_SESSION arrived on is the session's first (§18.36.3); a first
    // binding never meets the per-session limit.
    std::lock_guard slock(session->mu);
    bind_locked(*session, conn,
                (flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN) ? ConnDirection::kBoth
                                                              : ConnDirection::kFore);
  }
  client->renew();

  out.sessionid = sid;
  out.sequence = args.sequence;
  out.flags = flags;
  out.fore = fore;
  out.back = back;
  return remember(NFS4_OK);
}

nfsstat4 StateManager::destroy_clientid(uint64_t clientid, const Principal& principal,
                                        const Session* current) {
  std::unique_lock lock(clients_mu_);
  auto client = find_client_locked(clientid);
  if (!client) return NFS4ERR_STALE_CLIENTID;
  // §2.10.8.3: with SP4_MACH_CRED only the machine credential destroys the client id.
  if (client->protect.enforces(OP_DESTROY_CLIENTID) && !(client->principal == principal)) {
    return NFS4ERR_WRONG_CRED;
  }
  // §18.50.3: a client id with sessions (including the one carrying this request), opens or
  // locks under its unexpired lease is busy.
  if (!client->sessions.empty() || has_state_locked(*client) ||
      (current && current->client == client)) {
    return NFS4ERR_CLIENTID_BUSY;
  }
  purge_client_locked(client, EndReason::kDestroyed);
  return NFS4_OK;
}

nfsstat4 StateManager::reclaim_complete(ClientRecord& client, bool one_fs) {
  {
    std::unique_lock lock(clients_mu_);
    if (one_fs) return NFS4_OK;  // per-file-system reclaim is not tracked; nothing to reclaim
    if (client.reclaim_complete) return NFS4ERR_COMPLETE_ALREADY;
    client.reclaim_complete = true;
  }
  // From here on the client may hold state, so a restart must let it reclaim: recorded on
  // disk (once per client, off the state lock) before the answer. Within a COMPOUND the
  // write and its fsyncs wait for the sync pool with the reply, off the reactor
  // (vfs/pending_sync.h). A record that cannot be written (a full or failing disk) is
  // logged and the answer is still NFS4_OK: refusing would lock every new client out of a
  // full disk, even to delete files, while a missing record only costs this client its
  // reclaims after a restart (NFS4ERR_NO_GRACE), which never grants conflicting state
  // (§8.4.2.1).
  grace.reclaimed(client.owner);
  if (!client_store_) return NFS4_OK;
  auto write = [store = client_store_.get(), owner = client.owner] {
    if (!store->record(owner)) {
      spdlog::error(
          "a client's record could not be written: after a restart its opens and locks "
          "cannot be reclaimed");
    }
    return vfs::Status::kOk;
  };
  if (auto* pending = vfs::PendingSync::current()) {
    pending->add_task(std::move(write));
  } else {
    write();
  }
  return NFS4_OK;
}

void StateManager::begin_grace(std::chrono::seconds length, std::chrono::seconds max_extension) {
  grace.begin(client_store_ ? client_store_->load() : std::vector<std::vector<uint8_t>>{}, length,
              max_extension);
}

void StateManager::purge_client_locked(const std::shared_ptr<ClientRecord>& client, EndReason why) {
  std::vector<std::shared_ptr<Session>> sessions;
  for (auto& [sid, s] : client->sessions)
    sessions.push_back(s);
  const UnbindReason unbind =
      why == EndReason::kExpired ? UnbindReason::kReaper : UnbindReason::kSessionDestroy;
  for (auto& s : sessions)
    end_session_locked(s, why, unbind);
  purge_file_state(*client);
  // A client that ends (and not one replaced by its own next incarnation, which records
  // itself again) has nothing to reclaim after a restart.
  if (client_store_ && client->reclaim_complete && why != EndReason::kReplaced) {
    client_store_->forget(client->owner);
  }
  clients_.erase(client->id);
  if (client->confirmed && observer_) observer_->client_ended(*client, why);
}

size_t StateManager::reap_expired() {
  auto lease = std::chrono::seconds(settings_.get()->lease_time);
  auto now = Clock::now();
  std::unique_lock lock(clients_mu_);
  std::vector<std::shared_ptr<ClientRecord>> dead;
  for (const auto& [id, c] : clients_) {
    if (now - c->last_renew() <= lease) {
      c->courtesy.store(false, std::memory_order_relaxed);
      continue;
    }
    // A client with a request in progress is not expired under it.
    if (request_in_flight_locked(*c)) continue;
    // Kept as a courtesy client while it holds state nobody else needs (see the header).
    if (c->confirmed && now - c->last_renew() <= lease + kCourtesyLimit && has_state_locked(*c)) {
      if (!c->courtesy.exchange(true, std::memory_order_relaxed)) {
        spdlog::info(
            "client {:#x} ({}) lease expired; kept as a courtesy client until its "
            "state is in another client's way",
            c->id, c->peer);
      }
      continue;
    }
    dead.push_back(c);
  }
  for (auto& c : dead) {
    spdlog::info("client {:#x} ({}) lease expired", c->id, c->peer);
    purge_client_locked(c, EndReason::kExpired);
  }
  return dead.size();
}

bool StateManager::evict_client(uint64_t clientid) {
  std::vector<std::shared_ptr<rpc::Connection>> conns;
  {
    std::unique_lock lock(clients_mu_);
    auto client = find_client_locked(clientid);
    if (!client) return false;
    for (const auto& [sid, s] : client->sessions) {
      std::lock_guard slock(s->mu);
      for (const auto& [cid, b] : s->connections) {
        if (auto c = b.conn.lock()) conns.push_back(c);
      }
    }
    purge_client_locked(client, EndReason::kEvicted);
  }
  for (auto& c : conns)
    c->close();
  return true;
}

std::vector<ClientSummary> StateManager::clients() const {
  std::vector<ClientSummary> out;
  std::shared_lock lock(clients_mu_);
  for (const auto& [id, c] : clients_)
    out.push_back(summarize_locked(*c));
  return out;
}

std::optional<ClientSummary> StateManager::client(uint64_t id) const {
  std::shared_lock lock(clients_mu_);
  auto c = find_client_locked(id);
  if (!c) return std::nullopt;
  return summarize_locked(*c);
}

ClientSummary StateManager::summarize_locked(const ClientRecord& c) const {
  ClientSummary s;
  s.id = c.id;
  s.owner.assign(c.owner.begin(), c.owner.end());
  s.peer = c.peer;
  s.minor_version = c.minor_version;
  s.confirmed = c.confirmed;
  auto lease = std::chrono::seconds(settings_.get()->lease_time);
  auto left = lease - (Clock::now() - c.last_renew());
  s.lease_remaining_s = std::max(0.0, std::chrono::duration<double>(left).count());
  s.courtesy = c.courtesy.load(std::memory_order_relaxed);
  s.sessions = c.sessions.size();
  s.impl_name = c.impl_name;
  s.state_protection = c.protect.how;
  return s;
}

std::vector<SessionSummary> StateManager::sessions(uint64_t clientid) const {
  std::vector<SessionSummary> out;
  std::shared_lock lock(clients_mu_);
  auto c = find_client_locked(clientid);
  if (!c) return out;
  for (const auto& [sid, s] : c->sessions) {
    SessionSummary sum;
    sum.id = sid;
    sum.clientid = clientid;
    sum.created_at = s->created_at;
    sum.flags = s->flags;
    sum.fore = s->fore;
    sum.back = s->back;
    std::lock_guard slock(s->mu);
    sum.cb_program = s->cb_program;
    for (const auto& [cid, b] : s->connections) {
      sum.fore_connections += has_fore(b.dir) ? 1 : 0;
      sum.back_connections += has_back(b.dir) ? 1 : 0;
      sum.connections.push_back({cid, b.dir, b.bound_at, b.conn.lock()});
    }
    sum.slots_in_use = s->in_flight_locked();
    out.push_back(std::move(sum));
  }
  return out;
}

size_t StateManager::client_count() const {
  std::shared_lock lock(clients_mu_);
  return clients_.size();
}

size_t StateManager::session_count() const {
  return sessions_.size();
}

size_t StateManager::slots_in_use() const {
  size_t n = 0;
  for (const auto& s : sessions_.all()) {
    std::lock_guard slock(s->mu);
    n += s->in_flight_locked();
  }
  return n;
}

}  // namespace dfs::nfs4::state
