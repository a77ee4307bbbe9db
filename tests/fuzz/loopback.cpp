#include "loopback.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

#include "fuzz_check.h"
#include "rpc/record_framer.h"

namespace dfs::fuzz {

Loopback::Loopback(rpc::RecordHandler& handler, uint64_t id)
    : reactor_(handler, max_record_, registry_, budget_, observer_) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
    throw std::runtime_error("socketpair failed");
  }
  server_fd_ = fds[0];
  peer_fd_ = fds[1];
  conn_ = std::make_shared<rpc::Connection>(id, server_fd_, "127.0.0.1:40000", &reactor_,
                                            "127.0.0.1:2049");
}

Loopback::~Loopback() {
  conn_.reset();
  ::close(server_fd_);
  ::close(peer_fd_);
}

std::optional<std::vector<uint8_t>> Loopback::next_record() {
  uint8_t chunk[65536];
  for (;;) {
    const ssize_t n = ::read(peer_fd_, chunk, sizeof chunk);
    if (n > 0) {
      received_.insert(received_.end(), chunk, chunk + n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;  // EAGAIN: all that was sent has been read; 0 or an error: nothing more comes
  }
  if (received_.empty()) return std::nullopt;
  // The server sends every record as a single fragment.
  FUZZ_CHECK(received_.size() >= 4);
  const uint32_t mark = (uint32_t{received_[0]} << 24) | (uint32_t{received_[1]} << 16) |
                        (uint32_t{received_[2]} << 8) | received_[3];
  FUZZ_CHECK(mark & rpc::kLastFragmentBit);
  const size_t length = mark & ~rpc::kLastFragmentBit;
  FUZZ_CHECK(received_.size() - 4 >= length);
  std::vector<uint8_t> record(received_.begin() + 4,
                              received_.begin() + 4 + static_cast<long>(length));
  received_.erase(received_.begin(), received_.begin() + 4 + static_cast<long>(length));
  return record;
}

}  // namespace dfs::fuzz
