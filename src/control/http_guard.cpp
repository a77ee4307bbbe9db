#include "control/http_guard.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace dfs::control {
namespace {

using Clock = std::chrono::steady_clock;

// Set on the accepting thread while it turns a connection away (WorkerPool full).
thread_local bool t_turn_away = false;

class DeadlineStream;
// The connection this worker thread is serving.
thread_local DeadlineStream* t_current = nullptr;

std::string address_of(const sockaddr_storage& ss, int& port) {
  char buf[INET6_ADDRSTRLEN] = {};
  port = 0;
  if (ss.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(ss);
    inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
    port = ntohs(a.sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(ss);
    port = ntohs(a.sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&a.sin6_addr)) {
      // An IPv4 client on a dual-stack socket: one address, one spelling.
      inet_ntop(AF_INET, a.sin6_addr.s6_addr + 12, buf, sizeof buf);
    } else {
      inet_ntop(AF_INET6, &a.sin6_addr, buf, sizeof buf);
    }
  }
  return buf;
}

// A connection's byte stream for cpp-httplib with HttpLimits applied per request.
class DeadlineStream final : public httplib::Stream {
 public:
  DeadlineStream(int fd, const std::atomic<socket_t>& listener) : fd_(fd), listener_(listener) {}

  // Waits for the next request to start (or buffered bytes of one); false: idle too long,
  // closed, or the server is stopping.
  bool wait_request(std::chrono::seconds idle) {
    return off_ < len_ || wait(POLLIN, Clock::now() + idle);
  }
  void begin_request() {
    deadline_ = Clock::now() + HttpLimits::kRequestDeadline;
    head_left_ = HttpLimits::kMaxHead;
    body_ = false;
  }
  void begin_body() {
    body_ = true;
    body_left_ = HttpLimits::kMaxBody;
  }
  void close_after_response() { close_ = true; }
  bool must_close() const { return close_ || read_failed_ || write_failed_; }

  bool is_readable() const override {
    return off_ < len_ ||
           wait(POLLIN, std::min(deadline_, Clock::now() + HttpLimits::kReadTimeout));
  }
  bool is_writable() const override {
    return wait(POLLOUT, Clock::now() + HttpLimits::kWriteTimeout);
  }

  ssize_t read(char* ptr, size_t size) override {
    if (read_failed_) return -1;
    size_t& left = body_ ? body_left_ : head_left_;
    if (left == 0) {
      // Over the budget: the head is too long, or more body than its length said.
      read_failed_ = true;
      return -1;
    }
    if (off_ == len_) {
      ssize_t n = fill();
      if (n <= 0) return n;
    }
    size_t n = std::min({size, left, len_ - off_});
    std::memcpy(ptr, buf_.data() + off_, n);
    off_ += n;
    left -= n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (write_failed_) return -1;
    const auto until = Clock::now() + HttpLimits::kWriteTimeout;
    for (;;) {
      ssize_t n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait(POLLOUT, until)) continue;
      write_failed_ = true;
      return -1;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    port = 0;
    ip.clear();
    if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) ip = address_of(ss, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    port = 0;
    ip.clear();
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) ip = address_of(ss, port);
  }
  socket_t socket() const override { return fd_; }

 private:
  // Polls in short slices, so a stopping server is noticed. true: ready (or an error that
  // the next recv/send reports).
  bool wait(short events, Clock::time_point until) const {
    for (;;) {
      if (listener_ == INVALID_SOCKET) return false;
      auto now = Clock::now();
      if (now >= until) return false;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
      pollfd p{fd_, events, 0};
      int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left + 1, 100)));
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) return false;
    }
  }

  ssize_t fill() {
    off_ = len_ = 0;
    for (;;) {
      ssize_t n = ::recv(fd_, buf_.data(), buf_.size(), 0);
      if (n > 0) {
        len_ = static_cast<size_t>(n);
        return n;
      }
      if (n == 0) return 0;
      if (errno == EINTR) continue;
      if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
          wait(POLLIN, std::min(deadline_, Clock::now() + HttpLimits::kReadTimeout))) {
        continue;
      }
      read_failed_ = true;  // too slow, reset, or the server is stopping
      return -1;
    }
  }

  const int fd_;
  const std::atomic<socket_t>& listener_;
  std::array<char, 4096> buf_{};
  size_t off_ = 0, len_ = 0;
  Clock::time_point deadline_ = Clock::now() + HttpLimits::kRequestDeadline;
  size_t head_left_ = HttpLimits::kMaxHead;
  size_t body_left_ = 0;
  bool body_ = false;
  bool close_ = false;
  bool read_failed_ = false;
  bool write_failed_ = false;
};

void turn_away(int fd) {
  static const std::string body =
      R"({"type":"https://dittofs.dev/problems/503","title":"Service unavailable",)"
      R"("status":503,"detail":"too many API connections; retry later"})";
  static const std::string reply =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
      "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  // One try without blocking: this runs on the accepting thread or briefly on a worker.
  [[maybe_unused]] ssize_t n = ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace

WorkerPool::WorkerPool(size_t max_workers, size_t max_queued)
    : max_workers_(std::max<size_t>(1, max_workers)), max_queued_(max_queued) {}

WorkerPool::~WorkerPool() {
  shutdown();
}

void WorkerPool::enqueue(std::function<void()> fn) {
  std::unique_lock lock(mu_);
  if (max_queued_ > 0 && jobs_.size() >= max_queued_ && idle_ == 0) {
    lock.unlock();
    // Every worker busy and the queue full: the job runs here and only turns its
    // connection away.
    t_turn_away = true;
    fn();
    t_turn_away = false;
    return;
  }
  jobs_.push_back(std::move(fn));
  if (jobs_.size() > idle_ && threads_.size() < max_workers_) {
    threads_.emplace_back([this] { run(); });
  } else {
    cv_.notify_one();
  }
}

void WorkerPool::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
    --idle_;
    if (jobs_.empty()) return;  // stopping, and every job has run (each closes its socket)
    auto fn = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    fn();
    lock.lock();
  }
}

void WorkerPool::shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (auto& t : threads)
    t.join();
}

bool GuardedServer::admit(const std::string& address) {
  std::lock_guard lock(mu_);
  size_t& n = per_address_[address];
  if (n >= HttpLimits::kMaxPerAddress) return false;
  ++n;
  return true;
}

void GuardedServer::release(const std::string& address) {
  std::lock_guard lock(mu_);
  auto it = per_address_.find(address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  struct Closer {
    int fd;
    ~Closer() {
      ::shutdown(fd, SHUT_RDWR);
      ::close(fd);
    }
  } closer{sock};
  if (t_turn_away) {
    turn_away(sock);
    return false;
  }
  // Non-blocking: the stream waits with poll, up to its deadlines.
  int flags = ::fcntl(sock, F_GETFL, 0);
  if (flags < 0 || ::fcntl(sock, F_SETFL, flags | O_NONBLOCK) < 0) return false;
  DeadlineStream strm(sock, svr_sock_);
  std::string address;
  int port = 0;
  strm.get_remote_ip_and_port(address, port);
  if (!admit(address)) {
    turn_away(sock);
    return false;
  }
  struct Current {
    GuardedServer* self;
    const std::string& address;
    explicit Current(GuardedServer* s, const std::string& a, DeadlineStream* strm)
        : self(s), address(a) {
      t_current = strm;
    }
    ~Current() {
      t_current = nullptr;
      self->release(address);
    }
  } current(this, address, &strm);

  bool ret = false;
  for (size_t i = 0; i < HttpLimits::kKeepAliveRequests && svr_sock_ != INVALID_SOCKET; ++i) {
    // The first request must start as soon as a read would time out; later ones within the
    // keep-alive time.
    if (!strm.wait_request(i == 0 ? HttpLimits::kReadTimeout : HttpLimits::kKeepAlive)) break;
    strm.begin_request();
    bool closed = false;
    ret = process_request(strm, i + 1 == HttpLimits::kKeepAliveRequests, closed, nullptr);
    if (!ret || closed || strm.must_close()) break;
  }
  return ret;
}

void http_begin_body() {
  if (t_current) t_current->begin_body();
}

bool http_close_after_response() {
  if (!t_current) return false;
  t_current->close_after_response();
  return true;
}

}  // namespace dfs::control
