#include "rpc/tcp_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "rpc/reactor.h"

namespace dfs::rpc {
namespace {

std::string format_peer(const sockaddr_storage& ss) {
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

}  // namespace

TcpServer::TcpServer(TcpServerOptions options, RecordHandler& handler)
    : options_(std::move(options)), handler_(handler), max_record_size_(options_.max_record_size) {}

TcpServer::~TcpServer() {
  stop();
}

void TcpServer::start() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
  addrinfo* res = nullptr;
  std::string port = std::to_string(options_.port);
  int rc = ::getaddrinfo(options_.address.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    throw std::runtime_error(
        fmt::format("bad listen address {}: {}", options_.address, gai_strerror(rc)));
  }
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || ::bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
    std::string err = std::strerror(errno);
    ::freeaddrinfo(res);
    if (fd >= 0) ::close(fd);
    throw std::runtime_error(
        fmt::format("cannot listen on {}:{}: {}", options_.address, options_.port, err));
  }
  ::freeaddrinfo(res);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  bound_port_ = bound.ss_family == AF_INET6
                    ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                    : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  listen_fd_ = fd;
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

  unsigned n = options_.reactor_threads;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) {
    reactors_.push_back(std::make_unique<Reactor>(handler_, max_record_size_));
    reactors_.back()->start();
  }
  running_ = true;
  acceptor_ = std::thread([this] { accept_loop(); });
}

std::string TcpServer::listen_address() const {
  return fmt::format("{}:{}", options_.address, bound_port_);
}

void TcpServer::accept_loop() {
  size_t next = 0;
  while (running_.load()) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) break;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd =
        ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) continue;
      spdlog::warn("accept failed: {}", std::strerror(errno));
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    reactors_[next++ % reactors_.size()]->adopt(fd, next_conn_id_++, format_peer(ss));
  }
}

void TcpServer::stop() {
  if (!running_.exchange(false)) return;
  uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(stop_fd_, &one, sizeof one);
  if (acceptor_.joinable()) acceptor_.join();
  ::close(listen_fd_);
  ::close(stop_fd_);
  for (auto& reactor : reactors_)
    reactor->stop();
  reactors_.clear();
}

size_t TcpServer::connection_count() const {
  size_t n = 0;
  for (const auto& r : reactors_)
    n += r->connection_count();
  return n;
}

std::vector<std::shared_ptr<Connection>> TcpServer::connections() const {
  std::vector<std::shared_ptr<Connection>> out;
  for (const auto& r : reactors_)
    r->snapshot(out);
  return out;
}

}  // namespace dfs::rpc
