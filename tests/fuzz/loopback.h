#pragma once
// A connection as the server's layers see it, with no transport behind it: its socket is one
// end of a socketpair whose other end the fuzz target reads, and its reactor never runs (a
// close or drain is only recorded). A target can then hand records to the dispatcher, or let
// the callback service send calls, in-process and deterministically, and see exactly what
// the server sent back.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "rpc/connection.h"
#include "rpc/connection_registry.h"
#include "rpc/reactor.h"
#include "rpc/tcp_server.h"

namespace dfs::fuzz {

class Loopback {
 public:
  explicit Loopback(rpc::RecordHandler& handler, uint64_t id = 1);
  ~Loopback();
  Loopback(const Loopback&) = delete;
  Loopback& operator=(const Loopback&) = delete;

  const std::shared_ptr<rpc::Connection>& conn() const { return conn_; }
  // The next record the server sent (its record mark checked and removed), or nullopt when
  // nothing more has been sent. A malformed record mark fails a FUZZ_CHECK: the server's own
  // framing must be right whatever it was sent.
  std::optional<std::vector<uint8_t>> next_record();

 private:
  std::atomic<size_t> max_record_{4u << 20};
  rpc::ConnectionRegistry registry_;
  std::atomic<int64_t> budget_{1 << 30};
  rpc::TransportObserver* observer_ = nullptr;
  rpc::Reactor reactor_;
  int server_fd_ = -1;
  int peer_fd_ = -1;
  std::shared_ptr<rpc::Connection> conn_;
  std::vector<uint8_t> received_;  // read from the peer end, not yet returned
};

}  // namespace dfs::fuzz
