// How the transport shares its reactors between connections (issue 14): a new connection goes
// to the reactor with the fewest, so connections are spread evenly and a reactor emptied by
// closes gets the next ones; and a connection that keeps its socket full cannot hold its
// reactor for itself, because a reactor reads a bounded number of times from one connection
// before it turns to the others ready with it. Real TCP over loopback; records are opaque.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "rpc/record_framer.h"
#include "rpc/tcp_server.h"

namespace dfs::rpc {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Records whose first byte says who sent them: 'A' the busy connection, anything else a
// one-off. Remembers which reactor thread each connection's records ran on.
class CountingHandler : public RecordHandler {
 public:
  // Time the handler spends on each 'A' record, so that the reactor falls behind the
  // sender and A's socket never drains while A sends.
  std::chrono::microseconds busy_per_a{0};

  void on_record(const std::shared_ptr<Connection>& conn, std::span<const uint8_t> record,
                 std::shared_ptr<xdr::OutOfLineBytes>) override {
    const bool a = !record.empty() && record[0] == 'A';
    if (a) {
      for (auto until = Clock::now() + busy_per_a; Clock::now() < until;) {
      }
    }
    std::lock_guard lock(mu_);
    thread_of_[conn->id()] = std::this_thread::get_id();
    if (a) {
      ++a_records_;
    } else {
      a_records_when_other_ = a_records_;
      ++others_;
    }
    cv_.notify_all();
  }

  template <class Pred>
  bool wait(Pred pred, std::chrono::seconds bound = 20s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, bound, [&] { return pred(*this); });
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, std::thread::id> thread_of_;
  uint64_t a_records_ = 0;
  uint64_t a_records_when_other_ = 0;
  uint64_t others_ = 0;
};

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::vector<uint8_t> framed(char tag, size_t size) {
  std::vector<uint8_t> out(4 + size, static_cast<uint8_t>(tag));
  write_record_mark(out.data(), static_cast<uint32_t>(size));
  return out;
}

bool send_all(int fd, std::span<const uint8_t> bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes = bytes.subspan(static_cast<size_t>(n));
  }
  return true;
}

std::unique_ptr<TcpServer> start_server(CountingHandler& handler, unsigned reactors) {
  TcpServerOptions opts;
  opts.addresses = {"127.0.0.1"};
  opts.port = 0;
  opts.reactor_threads = reactors;
  auto server = std::make_unique<TcpServer>(opts, handler);
  server->start();
  return server;
}

TEST(ReactorFairness, ConnectionsAreSpreadEvenlyAndRefillTheEmptiestReactor) {
  CountingHandler handler;
  constexpr unsigned kReactors = 4;
  auto server = start_server(handler, kReactors);
  const auto one = framed('x', 8);

  // Each connection sends a record once it is accepted, so the next one is placed knowing
  // about it.
  std::map<uint64_t, int> fds;  // by the order they were opened
  auto open_one = [&](uint64_t n) {
    int fd = connect_to(server->port());
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_all(fd, one));
    ASSERT_TRUE(handler.wait([&](CountingHandler& h) { return h.others_ >= n; }));
    fds[n] = fd;
  };
  for (uint64_t n = 1; n <= 2 * kReactors; ++n)
    open_one(n);

  std::map<std::thread::id, std::vector<uint64_t>> conns_of;
  {
    std::lock_guard lock(handler.mu_);
    for (const auto& [conn, thread] : handler.thread_of_)
      conns_of[thread].push_back(conn);
  }
  ASSERT_EQ(conns_of.size(), kReactors);
  for (const auto& [thread, conns] : conns_of)
    EXPECT_EQ(conns.size(), 2u);

  // Close both connections of one reactor (the first connection's): the next two opened go
  // there, not to the reactors that still have two each.
  const std::thread::id emptied = [&] {
    std::lock_guard lock(handler.mu_);
    return handler.thread_of_.begin()->second;
  }();
  std::set<uint64_t> emptied_conns(conns_of[emptied].begin(), conns_of[emptied].end());
  // Connection ids count from the first accepted in the order opened (one at a time above).
  const uint64_t first_id = handler.thread_of_.begin()->first;
  for (uint64_t id : emptied_conns) {
    ::close(fds[id - first_id + 1]);
    fds.erase(id - first_id + 1);
  }
  for (auto end = Clock::now() + 20s;
       server->connection_count() > 2 * kReactors - 2 && Clock::now() < end;) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(server->connection_count(), 2 * kReactors - 2);
  open_one(2 * kReactors + 1);
  open_one(2 * kReactors + 2);
  {
    std::lock_guard lock(handler.mu_);
    auto it = handler.thread_of_.rbegin();
    EXPECT_EQ(it->second, emptied);
    ++it;
    EXPECT_EQ(it->second, emptied);
  }
  for (const auto& [n, fd] : fds)
    ::close(fd);
  server->stop();
}

TEST(ReactorFairness, ABusyConnectionDoesNotHoldItsReactorFromAnother) {
  CountingHandler handler;
  handler.busy_per_a = 20us;
  auto server = start_server(handler, 1);  // both connections on one reactor

  // A sends far more than the reactor handles in the time it takes to send, so its socket
  // stays full from the first records to the last.
  constexpr uint64_t kARecords = 20000;
  int a = connect_to(server->port());
  ASSERT_GE(a, 0);
  std::thread sender([&] {
    const auto rec = framed('A', 1024);
    std::vector<uint8_t> batch;
    for (int i = 0; i < 64; ++i)
      batch.insert(batch.end(), rec.begin(), rec.end());
    for (uint64_t sent = 0; sent < kARecords; sent += 64) {
      if (!send_all(a, batch)) return;
    }
  });
  ASSERT_TRUE(handler.wait([](CountingHandler& h) { return h.a_records_ >= 100; }));

  // B's one record is handled while A's stream is still being worked through, not after.
  int b = connect_to(server->port());
  ASSERT_GE(b, 0);
  ASSERT_TRUE(send_all(b, framed('B', 8)));
  ASSERT_TRUE(handler.wait([](CountingHandler& h) { return h.others_ >= 1; }, 60s));
  uint64_t a_when_b = 0;
  {
    std::lock_guard lock(handler.mu_);
    a_when_b = handler.a_records_when_other_;
  }
  EXPECT_LT(a_when_b, kARecords / 2) << "B waited for most of A's stream";

  EXPECT_TRUE(handler.wait([](CountingHandler& h) { return h.a_records_ >= kARecords; }, 120s));
  sender.join();
  ::close(a);
  ::close(b);
  server->stop();
}

}  // namespace
}  // namespace dfs::rpc
