#include "rpc/reactor.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace dfs::rpc {
namespace {

constexpr size_t kReadChunk = 256 * 1024;
constexpr size_t kMaxIdleBuffer = 4 * 1024 * 1024;  // kept by an idle connection
constexpr int kMaxEvents = 64;
constexpr int kMaxReadsPerEvent = 8;  // fairness between connections on one reactor
// Records shorter than this are never placed: copying them costs less than reading their
// head separately.
constexpr size_t kMinPlacedRecord = 64 * 1024;
// What a connection in bulk mode reads into the receive buffer at a time: a record head (a
// WRITE's is a few hundred bytes) and a little more.
constexpr size_t kHeadRead = 16 * 1024;
constexpr size_t kMaxPlacedIov = 32;

uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

}  // namespace

Reactor::Reactor(RecordHandler& handler, std::atomic<size_t>& max_record_size,
                 ConnectionRegistry& registry, std::atomic<int64_t>& receive_budget,
                 TransportObserver* const& observer)
    : handler_(handler),
      max_record_size_(max_record_size),
      registry_(registry),
      receive_budget_(receive_budget),
      observer_(observer) {
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epfd_ < 0 || wake_fd_ < 0) throw std::runtime_error("epoll/eventfd setup failed");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_fd_, &ev);
}

Reactor::~Reactor() {
  stop();
  ::close(epfd_);
  ::close(wake_fd_);
}

void Reactor::start() {
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void Reactor::stop() {
  if (!running_.exchange(false)) return;
  uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(wake_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  std::vector<int> fds;
  {
    std::lock_guard lock(mu_);
    for (auto& [fd, slot] : slots_)
      fds.push_back(fd);
  }
  for (int fd : fds)
    drop(fd);
  std::lock_guard lock(mu_);
  for (auto& [fd, id, peer, local] : adopted_)
    ::close(fd);
  adopted_.clear();
}

bool Reactor::on_own_thread() const {
  return std::this_thread::get_id() == thread_id_;
}

void Reactor::adopt(int fd, uint64_t id, std::string peer, std::string local) {
  {
    std::lock_guard lock(mu_);
    adopted_.emplace_back(fd, id, std::move(peer), std::move(local));
  }
  uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(wake_fd_, &one, sizeof one);
}

void Reactor::request_close(Connection& conn) {
  {
    std::lock_guard lock(mu_);
    close_requests_.emplace_back(conn.fd_, conn.id());
  }
  uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(wake_fd_, &one, sizeof one);
}

void Reactor::request_drain(Connection& conn) {
  {
    std::lock_guard lock(mu_);
    drain_requests_.emplace_back(conn.fd_, conn.id());
  }
  uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(wake_fd_, &one, sizeof one);
}

void Reactor::set_want_write(Connection& conn, bool on) {
  epoll_event ev{};
  // Callers hold the connection's write mutex, which guards read_paused_. A draining
  // connection is not read from (a peer's hang-up is still reported).
  const bool read = !conn.read_paused_ && !conn.draining();
  ev.events = (read ? EPOLLIN | EPOLLRDHUP : 0u) | (on ? EPOLLOUT : 0u);
  ev.data.fd = conn.fd_;
  ::epoll_ctl(epfd_, EPOLL_CTL_MOD, conn.fd_, &ev);
}

size_t Reactor::connection_count() const {
  std::lock_guard lock(mu_);
  return slots_.size();
}

void Reactor::snapshot(std::vector<std::shared_ptr<Connection>>& out) const {
  std::lock_guard lock(mu_);
  for (const auto& [fd, slot] : slots_)
    out.push_back(slot->conn);
}

void Reactor::drain_adopted() {
  std::vector<std::tuple<int, uint64_t, std::string, std::string>> fresh;
  std::vector<std::pair<int, uint64_t>> closing;
  std::vector<std::pair<int, uint64_t>> draining;
  {
    std::lock_guard lock(mu_);
    fresh.swap(adopted_);
    closing.swap(close_requests_);
    draining.swap(drain_requests_);
  }
  for (auto& [fd, id, peer, local] : fresh) {
    auto slot = std::make_unique<Slot>(
        Slot{std::make_shared<Connection>(id, fd, std::move(peer), this, std::move(local)),
             xdr::ByteBuffer(kReadChunk), RecordFramer(max_record_size_.load()), 0, 0});
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    auto conn = slot->conn;
    {
      std::lock_guard lock(mu_);
      slots_[fd] = std::move(slot);
    }
    registry_.add(conn);
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      spdlog::warn("epoll_ctl add failed for connection {}: {}", conn->id(), std::strerror(errno));
      drop(fd);
      continue;
    }
    spdlog::debug("connection {} from {} accepted", conn->id(), conn->peer());
    handler_.on_connect(conn);
  }
  for (auto [fd, id] : draining) {
    Slot* slot = nullptr;
    {
      std::lock_guard lock(mu_);
      auto it = slots_.find(fd);
      if (it != slots_.end() && it->second->conn->id() == id) slot = it->second.get();
    }
    if (slot) start_drain(*slot);
  }
  for (auto [fd, id] : closing) {
    bool same = false;
    {
      std::lock_guard lock(mu_);
      auto it = slots_.find(fd);
      same = it != slots_.end() && it->second->conn->id() == id;
    }
    if (same) drop(fd);  // the fd may already belong to a newer connection
  }
}

void Reactor::run() {
  thread_id_ = std::this_thread::get_id();
  epoll_event events[kMaxEvents];
  while (running_.load(std::memory_order_relaxed)) {
    int n = ::epoll_wait(epfd_, events, kMaxEvents, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      spdlog::error("epoll_wait failed: {}", std::strerror(errno));
      break;
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t v;
        [[maybe_unused]] auto r = ::read(wake_fd_, &v, sizeof v);
        drain_adopted();
        continue;
      }
      Slot* slot = nullptr;
      {
        std::lock_guard lock(mu_);
        auto it = slots_.find(fd);
        if (it != slots_.end()) slot = it->second.get();
      }
      if (!slot) continue;
      if (events[i].events & EPOLLOUT) {
        on_writable(*slot);  // may drop the connection (after resuming buffered records)
        std::lock_guard lock(mu_);
        auto it = slots_.find(fd);
        slot = it == slots_.end() ? nullptr : it->second.get();
        if (!slot) continue;
      }
      if (slot->draining) {
        // Nothing more is read from a draining connection; a peer that went away ends it.
        if (events[i].events & (EPOLLERR | EPOLLHUP)) drop(fd);
        continue;
      }
      if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) on_readable(*slot);
    }
  }
}

void Reactor::start_drain(Slot& slot) {
  const int fd = slot.conn->fd_;
  slot.draining = true;
  // Complete records already received are requests in flight: they are answered.
  if (!dispatch_records(slot)) {
    drop(fd);
    return;
  }
  bool done = false;
  {
    std::lock_guard lock(slot.conn->write_mu_);
    done = slot.conn->queue_.empty();
    set_want_write(*slot.conn, !done);
  }
  spdlog::info("connection {} from {} draining", slot.conn->id(), slot.conn->peer());
  if (done) drop(fd);
}

void Reactor::on_writable(Slot& slot) {
  auto& conn = *slot.conn;
  bool resume = false;
  bool drained = false;
  {
    std::lock_guard lock(conn.write_mu_);
    drained = conn.flush_locked();
    resume = conn.read_paused_ && conn.queued_bytes_ <= Connection::kMaxQueuedBytes / 2;
    if (resume) conn.read_paused_ = false;
    if ((drained && conn.want_write_) || resume) {
      conn.want_write_ = !drained;
      set_want_write(conn, conn.want_write_);
    }
  }
  // Records left buffered while paused are handled now; the socket may have nothing new.
  if (resume) {
    int fd = conn.fd_;
    if (!dispatch_records(slot)) {
      drop(fd);
      return;
    }
  }
  if (slot.draining && drained) drop(conn.fd_);
}

// Unprocessed bytes stay where they are while there is room behind them: moving a partial
// 1 MiB WRITE to the front after every record would copy the data a second time. They are
// moved (compacted) only when the next read would not fit, and growth leaves headroom for a
// few records so that compaction stays rare. Idle connections give large buffers back.
bool Reactor::charge(Slot& slot, int64_t delta) {
  if (delta > 0 && receive_budget_.fetch_sub(delta, std::memory_order_relaxed) < delta) {
    receive_budget_.fetch_add(delta, std::memory_order_relaxed);
    return false;
  }
  if (delta < 0) receive_budget_.fetch_add(-delta, std::memory_order_relaxed);
  slot.charged += delta;
  return true;
}

// A peer can make this happen at will: logged at most once every 10 s.
void Reactor::log_budget_spent(const Connection& conn) {
  static std::atomic<int64_t> last_log{0};
  const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
  int64_t prev = last_log.load(std::memory_order_relaxed);
  if (now - prev < std::chrono::nanoseconds(std::chrono::seconds(10)).count()) return;
  if (!last_log.compare_exchange_strong(prev, now)) return;
  spdlog::warn("connection {} from {}: receive budget spent, closing", conn.id(), conn.peer());
}

bool Reactor::make_room(Slot& slot) {
  auto& buf = slot.rbuf;
  size_t pending = buf.size() - slot.start;
  size_t need = std::max(pending + kReadChunk / 4, slot.wanted);
  if (pending == 0 && buf.capacity() > kMaxIdleBuffer) {
    charge(slot, -static_cast<int64_t>(buf.capacity() - kReadChunk));
    buf = xdr::ByteBuffer(kReadChunk);
    slot.start = 0;
  }
  if (slot.start + need <= buf.capacity()) return true;
  if (slot.start > 0) {
    buf.consume_front(slot.start);
    slot.start = 0;
  }
  if (need > buf.capacity()) {
    // A buffer larger than the base one holds an unfinished record: the receive budget pays
    // for it, so that many connections sending large records slowly cannot take the memory.
    const size_t grown = std::max(2 * need, kReadChunk);
    const int64_t extra = static_cast<int64_t>(grown) - static_cast<int64_t>(buf.capacity());
    if (!charge(slot, extra)) return false;
    buf.reserve(grown);
  }
  return true;
}

ssize_t Reactor::read_placed(Slot& slot, int fd, size_t space, size_t& asked) {
  iovec iov[kMaxPlacedIov];
  size_t n = 0;
  size_t skip = slot.placed_received;
  size_t to_payload = 0;
  for (auto seg : slot.placed->segments) {
    if (n == kMaxPlacedIov - 1) break;
    if (skip >= seg.size()) {
      skip -= seg.size();
      continue;
    }
    iov[n++] = {seg.data() + skip, seg.size() - skip};
    to_payload += seg.size() - skip;
    skip = 0;
  }
  asked = to_payload;
  // The rest of the record and whatever follows it go to the receive buffer, in the same call.
  if (slot.placed_received + to_payload == slot.placed->length) {
    iov[n++] = {slot.rbuf.data() + slot.rbuf.size(), space};
    asked += space;
  }
  ssize_t got = ::readv(fd, iov, static_cast<int>(n));
  if (got > 0) {
    size_t placed = std::min(static_cast<size_t>(got), to_payload);
    slot.placed_received += placed;
    slot.rbuf.resize(slot.rbuf.size() + (static_cast<size_t>(got) - placed));
  }
  return got;
}

void Reactor::on_readable(Slot& slot) {
  int fd = slot.conn->fd_;
  for (int round = 0; round < kMaxReadsPerEvent; ++round) {
    if (!make_room(slot)) {
      // Out of receive budget: this connection's unfinished record cannot be held now.
      log_budget_spent(*slot.conn);
      if (observer_) observer_->connection_shed(ShedReason::kReceiveBudget);
      drop(fd);
      return;
    }
    size_t space = slot.rbuf.capacity() - slot.rbuf.size();
    // Only record heads are read small: the next one (wanted is 0 between records), and the one
    // after a placed record's bulk bytes. The rest of a record that was not placed is read in
    // large pieces.
    if (slot.bulk && (slot.wanted == 0 || slot.placed)) space = std::min(space, kHeadRead);
    size_t asked = space;
    ssize_t n = 0;
    if (slot.placed && slot.placed_received < slot.placed->length) {
      n = read_placed(slot, fd, space, asked);
    } else {
      n = ::read(fd, slot.rbuf.data() + slot.rbuf.size(), space);
      if (n > 0) slot.rbuf.resize(slot.rbuf.size() + static_cast<size_t>(n));
    }
    if (n == 0) {
      drop(fd);
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      drop(fd);
      return;
    }
    slot.conn->bytes_in_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    slot.conn->touch();
    if (!dispatch_records(slot)) {
      drop(fd);
      return;
    }
    if (static_cast<size_t>(n) < asked) return;  // the socket is drained
    {
      std::lock_guard lock(slot.conn->write_mu_);
      if (slot.conn->read_paused_) return;  // backpressure: wait for the peer to read
    }
  }
}

void Reactor::try_place(Slot& slot, size_t frag) {
  uint8_t* mark = slot.rbuf.data() + frag;
  const uint32_t header = load_be32(mark);
  const size_t length = header & ~kLastFragmentBit;
  if (!(header & kLastFragmentBit) || length < kMinPlacedRecord) return;
  const size_t have = slot.rbuf.size() - frag - 4;
  std::shared_ptr<xdr::OutOfLineBytes> bytes;
  try {
    bytes = handler_.place({mark + 4, have}, length);
  } catch (const std::bad_alloc&) {
    return;  // no memory for the buffers: the record is received whole instead
  }
  // Only bytes after the head the handler read, inside the record, whole XDR words.
  if (!bytes || bytes->length == 0 || bytes->length % 4 != 0 || bytes->record_offset > have ||
      bytes->record_offset + bytes->length > length) {
    return;
  }
  // The placed buffers are memory held for an unfinished record too.
  if (!charge(slot, static_cast<int64_t>(bytes->length))) return;
  // Bulk bytes that are already buffered move to their place, and what followed them in the
  // buffer closes up behind the head.
  const size_t at = frag + 4 + bytes->record_offset;
  const size_t buffered = slot.rbuf.size() - at;
  const size_t moved = std::min(buffered, bytes->length);
  bytes->copy_in(0, slot.rbuf.data() + at, moved);
  std::memmove(slot.rbuf.data() + at, slot.rbuf.data() + at + moved, buffered - moved);
  slot.rbuf.resize(slot.rbuf.size() - moved);
  // The record as framed from now on lacks the bulk bytes.
  const size_t shorter = length - bytes->length;
  write_record_mark(mark, static_cast<uint32_t>(shorter));
  slot.placed = std::move(bytes);
  slot.placed_received = moved;
  slot.wanted = 4 + shorter;
  slot.bulk = true;
}

bool Reactor::dispatch_records(Slot& slot) {
  auto& conn = slot.conn;
  slot.framer.set_max_record_size(max_record_size_.load(std::memory_order_relaxed));
  {
    std::lock_guard lock(conn->write_mu_);
    conn->batching_ = true;
  }
  size_t offset = 0;
  bool fatal = false;
  bool paused = false;
  slot.wanted = 0;
  while (!conn->is_closed()) {
    size_t consumed = 0, wanted = 0;
    std::span<const uint8_t> record;
    auto res =
        slot.framer.next(slot.rbuf.span().subspan(slot.start + offset), consumed, record, wanted);
    if (res == RecordFramer::Result::kTooLarge) {
      spdlog::warn("connection {} from {}: record larger than {} bytes, closing", conn->id(),
                   conn->peer(), max_record_size_.load());
      fatal = true;
      break;
    }
    if (res == RecordFramer::Result::kRecord &&
        conn->queued_bytes_.load(std::memory_order_relaxed) > Connection::kMaxQueuedBytes) {
      // The peer is not reading its replies: leave this record buffered (a multi-fragment
      // record is already assembled in the framer, so it is handled now) and stop reading.
      if (record.data() >= slot.rbuf.data() &&
          record.data() < slot.rbuf.data() + slot.rbuf.size()) {
        paused = true;
        break;
      }
    }
    // A placed record whose bulk bytes were its last ones is complete in the buffer before
    // they have all arrived; it waits for them.
    if (res == RecordFramer::Result::kRecord && slot.placed &&
        slot.placed_received < slot.placed->length) {
      break;
    }
    offset += consumed;
    // Fragments of a multi-fragment record collect in the framer: the receive budget pays
    // for them like for a grown buffer.
    if (const auto held = static_cast<int64_t>(slot.framer.held_bytes());
        held != slot.framer_charged) {
      if (!charge(slot, held - slot.framer_charged)) {
        log_budget_spent(*conn);
        if (observer_) observer_->connection_shed(ShedReason::kReceiveBudget);
        fatal = true;
        break;
      }
      slot.framer_charged = held;
    }
    if (res == RecordFramer::Result::kNeedMore) {
      slot.wanted = wanted > consumed ? wanted - consumed : 0;
      if (!slot.placed && wanted > 0 && !slot.framer.assembling()) {
        try_place(slot, slot.start + offset);
      }
      break;
    }
    // Records come out in order, so the first one after a placement is the placed one. A
    // connection that sends large records has the next one's head read on its own.
    const size_t full_size = record.size() + (slot.placed ? slot.placed->length : 0);
    slot.bulk = full_size >= kMinPlacedRecord;
    slot.placed_received = 0;
    if (slot.placed) charge(slot, -static_cast<int64_t>(slot.placed->length));
    handler_.on_record(conn, record, std::move(slot.placed));
    slot.placed = nullptr;
  }
  slot.start += offset;
  if (slot.start == slot.rbuf.size()) {
    slot.rbuf.clear();
    slot.start = 0;
  }
  std::lock_guard lock(conn->write_mu_);
  conn->batching_ = false;
  if (!conn->want_write_ && !conn->flush_locked()) {
    conn->want_write_ = true;
    set_want_write(*conn, true);
  }
  if (paused && conn->want_write_ && !conn->read_paused_) {
    conn->read_paused_ = true;  // the peer is not reading: stop reading it too
    set_want_write(*conn, true);
  }
  return !fatal && !conn->is_closed();
}

void Reactor::drop(int fd) {
  std::unique_ptr<Slot> slot;
  {
    std::lock_guard lock(mu_);
    auto it = slots_.find(fd);
    if (it == slots_.end()) return;
    slot = std::move(it->second);
    slots_.erase(it);
  }
  ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  auto conn = slot->conn;
  registry_.remove(conn->id());
  charge(*slot, -slot->charged);
  {
    std::lock_guard lock(conn->write_mu_);
    conn->mark_closed();
    conn->queue_.clear();
    conn->fd_ = -1;
  }
  ::close(fd);
  spdlog::debug("connection {} from {} closed", conn->id(), conn->peer());
  handler_.on_disconnect(conn);
  std::vector<std::function<void(Connection&)>> listeners;
  {
    std::lock_guard lock(conn->listeners_mu_);
    listeners.swap(conn->close_listeners_);
  }
  for (auto& l : listeners)
    l(*conn);
}

}  // namespace dfs::rpc
