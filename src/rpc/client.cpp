#include "rpc/client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

#include "rpc/record_framer.h"
#include "xdr/encoder.h"

namespace dfs::rpc {

RpcClient::~RpcClient() {
  close();
}

RpcClient::RpcClient(RpcClient&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      next_xid_(o.next_xid_),
      flavor_(o.flavor_),
      cred_body_(std::move(o.cred_body_)),
      timeout_(o.timeout_),
      rbuf_(std::move(o.rbuf_)),
      early_(std::move(o.early_)) {}

namespace {

// Binds `fd` to the local address `from` (any port), so that a test can be a client on
// another loopback address.
bool bind_local(int fd, int family, const std::string& from) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    if (::inet_pton(AF_INET6, from.c_str(), &a->sin6_addr) != 1) return false;
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    if (::inet_pton(AF_INET, from.c_str(), &a->sin_addr) != 1) return false;
    len = sizeof *a;
  }
  return ::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0;
}

}  // namespace

void RpcClient::connect(const std::string& host, uint16_t port, const std::string& from) {
  close();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) {
    throw std::runtime_error("cannot resolve " + host);
  }
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && !from.empty() && !bind_local(fd, res->ai_family, from)) {
    ::close(fd);
    ::freeaddrinfo(res);
    throw std::runtime_error("cannot bind to " + from);
  }
  if (fd < 0 || ::connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    std::string err = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    ::freeaddrinfo(res);
    throw std::runtime_error("cannot connect to " + host + ":" + std::to_string(port) + ": " + err);
  }
  ::freeaddrinfo(res);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fd_ = fd;
  std::random_device rd;
  next_xid_ = rd();
  rbuf_.clear();
  early_.clear();
}

void RpcClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void RpcClient::set_auth_sys(uint32_t uid, uint32_t gid, std::vector<uint32_t> groups,
                             std::string machine) {
  flavor_ = AuthFlavor::kSys;
  cred_body_ = encode_auth_sys(0, machine, uid, gid, groups);
}

void RpcClient::set_auth_none() {
  flavor_ = AuthFlavor::kNone;
  cred_body_.clear();
}

uint32_t RpcClient::send_call(uint32_t prog, uint32_t vers, uint32_t proc,
                              std::span<const uint8_t> args) {
  xdr::ByteBuffer buf(args.size() + 128);
  xdr::Encoder e(buf);
  e.reserve_u32();
  CallHeader h;
  h.xid = next_xid_++;
  h.rpc_version = kRpcVersion;
  h.program = prog;
  h.version = vers;
  h.procedure = proc;
  h.cred = {flavor_, cred_body_};
  h.verf = {AuthFlavor::kNone, {}};
  encode_call_header(e, h);
  buf.append(args.data(), args.size());
  write_record_mark(buf.data(), static_cast<uint32_t>(buf.size() - 4));
  if (!send_raw(buf.span())) return 0;
  return h.xid;
}

bool RpcClient::send_raw(std::span<const uint8_t> bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

bool RpcClient::fill() {
  if (fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(timeout_.count()));
  if (r <= 0) return false;
  rbuf_.reserve(rbuf_.size() + 65536);
  ssize_t n = ::recv(fd_, rbuf_.data() + rbuf_.size(), rbuf_.capacity() - rbuf_.size(), 0);
  if (n <= 0) return false;
  rbuf_.resize(rbuf_.size() + static_cast<size_t>(n));
  return true;
}

std::optional<xdr::ByteBuffer> RpcClient::read_record() {
  xdr::ByteBuffer rec;
  size_t pos = 0;
  for (;;) {
    // Walk fragments in the buffer; a record is complete at its last fragment.
    size_t p = pos;
    bool complete = false;
    xdr::ByteBuffer assembled;
    while (rbuf_.size() - p >= 4) {
      const uint8_t* h = rbuf_.data() + p;
      uint32_t hdr = (uint32_t{h[0]} << 24) | (uint32_t{h[1]} << 16) | (uint32_t{h[2]} << 8) | h[3];
      size_t len = hdr & ~kLastFragmentBit;
      if (rbuf_.size() - p - 4 < len) break;
      assembled.append(h + 4, len);
      p += 4 + len;
      if (hdr & kLastFragmentBit) {
        complete = true;
        break;
      }
    }
    if (complete) {
      rbuf_.consume_front(p);
      return assembled;
    }
    if (!fill()) return std::nullopt;
  }
}

std::optional<RpcReply> RpcClient::parse(xdr::ByteBuffer&& rec) {
  RpcReply r;
  r.record = std::move(rec);
  xdr::Decoder d(r.record.span());
  MsgType type{};
  if (!decode_xid_and_type(d, r.xid, type) || type != MsgType::kReply) return std::nullopt;
  if (!decode_reply_header(d, r.header)) return std::nullopt;
  r.body_offset = r.record.size() - d.remaining();
  return r;
}

bool RpcClient::is_reply(const xdr::ByteBuffer& rec) {
  xdr::Decoder d(rec.span());
  uint32_t xid = 0;
  MsgType type{};
  return decode_xid_and_type(d, xid, type) && type == MsgType::kReply;
}

void RpcClient::take_call(xdr::ByteBuffer&& rec) {
  IncomingCall c;
  c.record = std::move(rec);
  xdr::Decoder d(c.record.span());
  MsgType type{};
  if (!decode_xid_and_type(d, c.header.xid, type) || type != MsgType::kCall ||
      !decode_call_body_header(d, c.header)) {
    return;  // neither a reply nor a call: nothing to do with it
  }
  c.args_offset = c.record.size() - d.remaining();
  if (handler_) {
    if (auto results = handler_(c)) send_reply(c.header.xid, results->span());
    return;
  }
  calls_.push_back(std::move(c));
}

std::optional<IncomingCall> RpcClient::read_call() {
  for (;;) {
    if (!calls_.empty()) {
      IncomingCall c = std::move(calls_.front());
      calls_.pop_front();
      return c;
    }
    auto rec = read_record();
    if (!rec) return std::nullopt;
    if (is_reply(*rec)) {
      if (auto r = parse(std::move(*rec))) early_.emplace(r->xid, std::move(*r));
      continue;
    }
    // Held even with a handler set: read_call() asks for the call itself.
    auto keep = std::move(handler_);
    take_call(std::move(*rec));
    handler_ = std::move(keep);
  }
}

bool RpcClient::send_reply(uint32_t xid, std::span<const uint8_t> results, AcceptStat stat) {
  xdr::ByteBuffer buf;
  xdr::Encoder e(buf);
  e.reserve_u32();
  encode_accepted_reply(e, xid, stat);
  buf.append(results.data(), results.size());
  write_record_mark(buf.data(), static_cast<uint32_t>(buf.size() - 4));
  return send_raw(buf.span());
}

std::optional<RpcReply> RpcClient::wait_any() {
  if (!early_.empty()) {
    auto it = early_.begin();
    RpcReply r = std::move(it->second);
    early_.erase(it);
    return r;
  }
  for (;;) {
    auto rec = read_record();
    if (!rec) return std::nullopt;
    if (!is_reply(*rec)) {
      take_call(std::move(*rec));  // a call from the server (backchannel)
      continue;
    }
    if (auto r = parse(std::move(*rec))) return r;
  }
}

std::optional<RpcReply> RpcClient::wait_reply(uint32_t xid) {
  if (auto it = early_.find(xid); it != early_.end()) {
    RpcReply r = std::move(it->second);
    early_.erase(it);
    return r;
  }
  for (;;) {
    auto rec = read_record();
    if (!rec) return std::nullopt;
    if (!is_reply(*rec)) {
      take_call(std::move(*rec));  // a call from the server (backchannel)
      continue;
    }
    auto r = parse(std::move(*rec));
    if (!r) continue;
    if (r->xid == xid) return r;
    early_.emplace(r->xid, std::move(*r));
  }
}

std::optional<RpcReply> RpcClient::call(uint32_t prog, uint32_t vers, uint32_t proc,
                                        std::span<const uint8_t> args) {
  uint32_t xid = send_call(prog, vers, proc, args);
  if (xid == 0) return std::nullopt;
  return wait_reply(xid);
}

bool RpcClient::wait_closed() {
  for (;;) {
    if (fd_ < 0) return true;
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(timeout_.count()));
    if (r <= 0) return false;
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
}

}  // namespace dfs::rpc
