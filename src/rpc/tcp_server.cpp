#include "rpc/tcp_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "rpc/reactor.h"

namespace dfs::rpc {
namespace {

// Descriptors kept back from the automatic connection limit: stores, logs, the control plane.
constexpr size_t kReservedDescriptors = 256;
// How long accepting pauses when the process is out of descriptors and nothing can be shed.
constexpr int kAcceptBackoffMs = 100;
// How often idle connections are looked for.
constexpr int kSweepIntervalMs = 1000;
// Connections accepted per wake-up of the acceptor, at most.
constexpr int kAcceptBurst = 64;

std::string format_address(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    return fmt::format("{}:{}", host, ntohs(a->sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    return fmt::format("[{}]:{}", host, ntohs(a->sin6_port));
  }
  return "unknown";
}

uint16_t port_of(const sockaddr_storage& ss) {
  return ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port)
                                  : ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
}

// Opens a listening socket on address:port; throws with a message naming both.
int listen_on(const std::string& address, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
  addrinfo* res = nullptr;
  std::string port_s = std::to_string(port);
  int rc = ::getaddrinfo(address.c_str(), port_s.c_str(), &hints, &res);
  if (rc != 0) {
    throw std::runtime_error(fmt::format("bad listen address {}: {}", address, gai_strerror(rc)));
  }
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;
  if (fd >= 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // An IPv6 address means that address only, so "::1" and "127.0.0.1" can both be listed.
    if (res->ai_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  if (fd < 0 || ::bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
    std::string err = std::strerror(errno);
    ::freeaddrinfo(res);
    if (fd >= 0) ::close(fd);
    throw std::runtime_error(fmt::format("cannot listen on {} port {}: {}", address, port, err));
  }
  ::freeaddrinfo(res);
  return fd;
}

}  // namespace

const char* shed_reason_name(ShedReason r) {
  switch (r) {
    case ShedReason::kMaxConnections:
      return "max_connections";
    case ShedReason::kIdleTimeout:
      return "idle_timeout";
    case ShedReason::kReceiveBudget:
      return "receive_budget";
  }
  return "max_connections";
}

namespace {
uint64_t default_receive_budget() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return uint64_t{1} << 30;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) / 16;
}
}  // namespace

TcpServer::TcpServer(TcpServerOptions options, RecordHandler& handler)
    : options_(std::move(options)),
      handler_(handler),
      max_record_size_(options_.max_record_size),
      max_connections_(options_.max_connections),
      idle_timeout_s_(options_.idle_timeout_s) {
  rlimit lim{};
  size_t fds = 1024;
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) fds = lim.rlim_cur;
  auto_max_connections_ = fds > 2 * kReservedDescriptors ? fds - kReservedDescriptors : fds / 2;
  receive_budget_ = options_.receive_budget ? options_.receive_budget : default_receive_budget();
  receive_budget_left_.store(static_cast<int64_t>(receive_budget_));
}

TcpServer::~TcpServer() {
  stop();
}

void TcpServer::set_limits(size_t max_connections, unsigned idle_timeout_s,
                           uint64_t receive_budget) {
  max_connections_.store(max_connections);
  idle_timeout_s_.store(idle_timeout_s);
  // A new total moves what is left by the same amount (charges stay as they are).
  const uint64_t total = receive_budget ? receive_budget : default_receive_budget();
  receive_budget_left_.fetch_add(static_cast<int64_t>(total) -
                                 static_cast<int64_t>(receive_budget_));
  receive_budget_ = total;
}

size_t TcpServer::max_connections() const {
  size_t m = max_connections_.load();
  return m == 0 ? auto_max_connections_ : m;
}

void TcpServer::start() {
  if (options_.addresses.empty()) throw std::runtime_error("no listen address");
  // With port 0 the first address picks a free port and the others must take the same one,
  // which another process may hold on one of them: then all are tried again on a new port.
  const int attempts = options_.port == 0 && options_.addresses.size() > 1 ? 16 : 1;
  uint16_t port = options_.port;
  for (int attempt = 1;; ++attempt) {
    port = options_.port;
    try {
      for (const auto& address : options_.addresses) {
        int fd = listen_on(address, port);
        listen_fds_.push_back(fd);
        sockaddr_storage bound{};
        socklen_t len = sizeof bound;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
        port = port_of(bound);
        bound_addresses_.push_back(format_address(bound));
      }
      break;
    } catch (...) {
      for (int fd : listen_fds_)
        ::close(fd);
      listen_fds_.clear();
      bound_addresses_.clear();
      if (attempt >= attempts) throw;
    }
  }
  bound_port_ = port;
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

  unsigned n = options_.reactor_threads;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) {
    reactors_.push_back(std::make_unique<Reactor>(handler_, max_record_size_, registry_,
                                                  receive_budget_left_, observer_));
    reactors_.back()->start();
  }
  running_ = true;
  acceptor_ = std::thread([this] { accept_loop(); });
}

std::string TcpServer::listen_address() const {
  return bound_addresses_.empty() ? std::string() : bound_addresses_.front();
}

std::vector<std::string> TcpServer::listen_addresses() const {
  return bound_addresses_;
}

void TcpServer::accept_loop() {
  std::vector<pollfd> fds;
  for (int fd : listen_fds_)
    fds.push_back({fd, POLLIN, 0});
  fds.push_back({stop_fd_, POLLIN, 0});
  auto next_sweep = std::chrono::steady_clock::now();
  bool paused = false;
  while (running_.load()) {
    // While paused (out of descriptors) only the stop descriptor is watched, for a while.
    for (size_t i = 0; i + 1 < fds.size(); ++i)
      fds[i].events = paused ? 0 : POLLIN;
    int rc = ::poll(fds.data(), fds.size(), paused ? kAcceptBackoffMs : kSweepIntervalMs);
    if (rc < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds.back().revents) break;
    paused = false;
    for (size_t i = 0; i + 1 < fds.size() && !paused; ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      // A burst of connects is taken in one wake-up, a bounded number at a time.
      for (int n = 0; n < kAcceptBurst; ++n) {
        Accepted a = accept_one(fds[i].fd);
        if (a == Accepted::kPause) paused = true;
        if (a != Accepted::kOne) break;
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= next_sweep) {
      sweep_idle();
      next_sweep = now + std::chrono::milliseconds(kSweepIntervalMs);
    }
  }
}

TcpServer::Accepted TcpServer::accept_one(int listen_fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  int fd = -1;
  if (uint64_t n = failing_accepts_.load();
      n > 0 && failing_accepts_.compare_exchange_strong(n, n - 1)) {
    errno = failing_errno_.load();
  } else {
    fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  }
  if (fd < 0) {
    if (errno == EINTR || errno == ECONNABORTED) return Accepted::kOne;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Accepted::kNone;
    // A peer can make any of these happen again at once: the log is rate-limited and the
    // acceptor never spins on an error.
    const int err = errno;
    accept_failures_++;
    static std::atomic<int64_t> last_log{0};
    const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    if (now - last_log.load() > std::chrono::nanoseconds(std::chrono::seconds(10)).count()) {
      last_log = now;
      spdlog::warn("accept failed: {} ({} connections open)", std::strerror(err), registry_.size());
    }
    if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
      // Out of descriptors: make room by closing the longest-idle connection that serves no
      // session, and pause a moment either way (its reactor closes it asynchronously; with
      // nothing to shed, connections must close before anyone new gets in).
      shed_idle_unbound();
    }
    return Accepted::kPause;
  }
  // At the connection limit a new client still gets in if an idle connection bound to no
  // session can make room; otherwise it is turned away at once.
  if (registry_.size() >= max_connections() && !shed_idle_unbound()) {
    ::close(fd);
    if (observer_) observer_->connection_shed(ShedReason::kMaxConnections);
    return Accepted::kOne;
  }
  sockaddr_storage local{};
  socklen_t local_len = sizeof local;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // The reactor with the fewest connections takes it, so closes do not leave them uneven.
  size_t best = next_reactor_++ % reactors_.size();
  for (size_t i = 0; i < reactors_.size(); ++i) {
    if (reactors_[i]->connection_count() < reactors_[best]->connection_count()) best = i;
  }
  registry_.expect();
  reactors_[best]->adopt(fd, next_conn_id_++, format_address(ss), format_address(local));
  return Accepted::kOne;
}

bool TcpServer::shed_idle_unbound() {
  std::shared_ptr<Connection> victim;
  for (auto& c : registry_.all()) {
    if (c->bindings() != 0 || c->is_closed() || c->draining()) continue;
    if (!victim || c->last_activity() < victim->last_activity()) victim = c;
  }
  if (!victim) return false;
  spdlog::debug("connection {} from {} shed: idle and bound to no session", victim->id(),
                victim->peer());
  victim->close();
  if (observer_) observer_->connection_shed(ShedReason::kMaxConnections);
  return true;
}

void TcpServer::sweep_idle() {
  const unsigned timeout = idle_timeout_s_.load();
  if (timeout == 0) return;
  const auto cutoff = std::chrono::steady_clock::now() - std::chrono::seconds(timeout);
  for (auto& c : registry_.all()) {
    if (c->bindings() != 0 || c->is_closed() || c->last_activity() > cutoff) continue;
    spdlog::debug("connection {} from {} closed: idle for {} s and bound to no session", c->id(),
                  c->peer(), timeout);
    c->close();
    if (observer_) observer_->connection_shed(ShedReason::kIdleTimeout);
  }
}

void TcpServer::stop() {
  if (!running_.exchange(false)) return;
  uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(stop_fd_, &one, sizeof one);
  if (acceptor_.joinable()) acceptor_.join();
  for (int fd : listen_fds_)
    ::close(fd);
  listen_fds_.clear();
  ::close(stop_fd_);
  for (auto& reactor : reactors_)
    reactor->stop();
  reactors_.clear();
}

}  // namespace dfs::rpc
