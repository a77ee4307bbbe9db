#include "rpc/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "rpc/reactor.h"
#include "rpc/record_framer.h"

namespace dfs::rpc {

OutboundMessage OutboundMessage::from_encoder(xdr::Encoder& enc, xdr::ByteBuffer&& head) {
  OutboundMessage m;
  size_t total = enc.size();
  write_record_mark(head.data(), static_cast<uint32_t>(total - 4));
  enc.take_owners(m.owners);
  m.total = total;
  enc.gather(m.iov);
  m.head = std::move(head);  // moving keeps the data pointer, so iov stays valid
  return m;
}

Connection::Connection(uint64_t id, int fd, std::string peer, Reactor* reactor, std::string local)
    : id_(id), fd_(fd), peer_(std::move(peer)), local_(std::move(local)), reactor_(reactor) {}

Connection::~Connection() = default;

bool Connection::send(OutboundMessage&& msg) {
  std::lock_guard lock(write_mu_);
  if (is_closed()) return false;
  queued_bytes_ += msg.total - msg.sent;
  queue_.push_back(std::move(msg));
  // The reactor flushes once after a batch of records; other senders write at once.
  if (batching_ && reactor_->on_own_thread()) return true;
  if (want_write_) return true;  // EPOLLOUT is armed and will drain the queue
  if (!flush_locked()) {
    want_write_ = true;
    reactor_->set_want_write(*this, true);
  }
  return !is_closed();
}

bool Connection::flush_locked() {
  constexpr size_t kMaxIov = 64;
  iovec iov[kMaxIov];
  while (!queue_.empty()) {
    size_t n = 0;
    // Gather from as many queued messages as fit, skipping what was already sent.
    for (auto it = queue_.begin(); it != queue_.end() && n < kMaxIov; ++it) {
      size_t skip = it->sent;
      for (const auto& v : it->iov) {
        if (n == kMaxIov) break;
        if (skip >= v.iov_len) {
          skip -= v.iov_len;
          continue;
        }
        iov[n].iov_base = static_cast<uint8_t*>(v.iov_base) + skip;
        iov[n].iov_len = v.iov_len - skip;
        skip = 0;
        ++n;
      }
    }
    // sendmsg with MSG_NOSIGNAL rather than writev: a peer that vanished must give EPIPE
    // here, not a SIGPIPE that kills the process (embedders may not ignore the signal).
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = n;
    ssize_t w = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
      // The peer is gone; the reactor notices on its side and drops the connection.
      queue_.clear();
      queued_bytes_ = 0;
      mark_closed();
      ::shutdown(fd_, SHUT_RDWR);
      return true;
    }
    size_t written = static_cast<size_t>(w);
    bytes_out_.fetch_add(written, std::memory_order_relaxed);
    queued_bytes_ -= std::min(queued_bytes_.load(), written);
    while (written > 0 && !queue_.empty()) {
      auto& front = queue_.front();
      size_t left = front.total - front.sent;
      if (written >= left) {
        written -= left;
        queue_.pop_front();
      } else {
        front.sent += written;
        written = 0;
      }
    }
  }
  return true;
}

void Connection::close() {
  std::lock_guard lock(write_mu_);
  if (is_closed()) return;
  mark_closed();
  ::shutdown(fd_, SHUT_RDWR);
  reactor_->request_close(*this);
}

void Connection::drain() {
  std::lock_guard lock(write_mu_);
  if (is_closed() || draining_.exchange(true)) return;
  if (reactor_) reactor_->request_drain(*this);
}

void Connection::mark_closed() {
  closed_.store(true, std::memory_order_release);
}

void Connection::on_close(std::function<void(Connection&)> listener) {
  std::lock_guard lock(listeners_mu_);
  close_listeners_.push_back(std::move(listener));
}

}  // namespace dfs::rpc
