// The transport's out-of-line receive (RecordHandler::place): a handler names where the bulk
// bytes of an incomplete record go, the reactor reads them there, and the record it hands on
// lacks them. Whatever way the stream is cut into reads, the record put back together must be
// the one sent. Real TCP over loopback; the handler here understands a toy record format:
//   "BULK" | u32 n | n bytes of payload | tail (any length)

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>
#include <vector>

#include "rpc/record_framer.h"
#include "rpc/tcp_server.h"

namespace dfs::rpc {
namespace {

using namespace std::chrono_literals;

constexpr size_t kHead = 8;  // "BULK" and the payload length

// Out-of-line bytes in heap buffers cut into uneven segments, so the reactor's gather list
// crosses buffer boundaries in the middle of reads.
class HeapBytes : public xdr::OutOfLineBytes {
 public:
  HeapBytes(size_t at, size_t n) {
    record_offset = at;
    length = n;
    size_t cut[] = {n / 3, n / 3 + 1, n / 2, n};  // four pieces, one of a single byte
    size_t from = 0;
    for (size_t c : cut) {
      size_t end = std::min(std::max(c, from), n);
      if (end == from) continue;
      storage_.emplace_back(end - from);
      segments.emplace_back(storage_.back().data(), end - from);
      from = end;
    }
  }

 private:
  std::vector<std::vector<uint8_t>> storage_;
};

struct Received {
  std::vector<uint8_t> record;  // as handed on (without the placed bytes)
  std::vector<uint8_t> placed;  // the placed bytes, empty if none
  size_t placed_at = 0;
  bool was_placed = false;
  // The record as the client sent it.
  std::vector<uint8_t> whole() const {
    std::vector<uint8_t> out(record.begin(), record.begin() + static_cast<long>(placed_at));
    out.insert(out.end(), placed.begin(), placed.end());
    out.insert(out.end(), record.begin() + static_cast<long>(placed_at), record.end());
    return out;
  }
};

class ToyHandler : public RecordHandler {
 public:
  // What place() answers, to check that the reactor refuses bad answers.
  enum class Mode { kPlace, kNothing, kUnaligned, kPastTheHead, kPastTheRecord };
  Mode mode = Mode::kPlace;

  std::shared_ptr<xdr::OutOfLineBytes> place(std::span<const uint8_t> head,
                                             size_t length) override {
    std::lock_guard lock(mu_);
    ++place_calls_;
    cv_.notify_all();
    if (mode == Mode::kNothing || head.size() < kHead || std::memcmp(head.data(), "BULK", 4) != 0) {
      return nullptr;
    }
    uint32_t n =
        (uint32_t{head[4]} << 24) | (uint32_t{head[5]} << 16) | (uint32_t{head[6]} << 8) | head[7];
    switch (mode) {
      case Mode::kUnaligned:
        return std::make_shared<HeapBytes>(kHead, n - 1);
      case Mode::kPastTheHead:
        return std::make_shared<HeapBytes>(head.size() + 4, 64);
      case Mode::kPastTheRecord:
        return std::make_shared<HeapBytes>(kHead, length);
      default:
        break;
    }
    if (kHead + n > length) return nullptr;
    return std::make_shared<HeapBytes>(kHead, n);
  }

  void on_record(const std::shared_ptr<Connection>&, std::span<const uint8_t> record,
                 std::shared_ptr<xdr::OutOfLineBytes> out_of_line) override {
    Received r;
    r.record.assign(record.begin(), record.end());
    if (out_of_line) {
      r.was_placed = true;
      r.placed_at = out_of_line->record_offset;
      r.placed.resize(out_of_line->length);
      out_of_line->copy_out(0, r.placed.data(), r.placed.size());
    }
    std::lock_guard lock(mu_);
    received_.push_back(std::move(r));
    cv_.notify_all();
  }

  bool wait_records(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 20s, [&] { return received_.size() >= n; });
  }
  bool wait_place_calls(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 20s, [&] { return place_calls_ >= n; });
  }
  std::vector<Received> records() {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  size_t place_calls_ = 0;
  std::vector<Received> received_;
};

std::vector<uint8_t> bulk_record(size_t payload, size_t tail, uint32_t seed) {
  std::vector<uint8_t> body = {'B',
                               'U',
                               'L',
                               'K',
                               static_cast<uint8_t>(payload >> 24),
                               static_cast<uint8_t>(payload >> 16),
                               static_cast<uint8_t>(payload >> 8),
                               static_cast<uint8_t>(payload)};
  std::mt19937 rng(seed);
  for (size_t i = 0; i < payload + tail; ++i)
    body.push_back(static_cast<uint8_t>(rng()));
  return body;
}

std::vector<uint8_t> framed(const std::vector<uint8_t>& body) {
  std::vector<uint8_t> out(4);
  write_record_mark(out.data(), static_cast<uint32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

class RpcPlacementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TcpServerOptions opts;
    opts.addresses = {"127.0.0.1"};
    opts.port = 0;
    opts.reactor_threads = 1;
    server_ = std::make_unique<TcpServer>(opts, handler_);
    server_->start();
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd_, 0);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(server_->port());
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
    server_->stop();
  }
  void send_bytes(std::span<const uint8_t> bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      ASSERT_GT(n, 0);
      bytes = bytes.subspan(static_cast<size_t>(n));
    }
  }

  ToyHandler handler_;
  std::unique_ptr<TcpServer> server_;
  int fd_ = -1;
};

TEST_F(RpcPlacementTest, BulkBytesOfAnIncompleteRecordArePlacedAndTheRecordLacksThem) {
  auto body = bulk_record(300000, 40, 1);
  auto wire = framed(body);
  auto small = framed({1, 2, 3, 4});
  // The head and a little of the payload first: the record is incomplete when framed.
  const size_t first = 4 + kHead + 1000;
  send_bytes({wire.data(), first});
  ASSERT_TRUE(handler_.wait_place_calls(1));
  send_bytes({wire.data() + first, wire.size() - first});
  send_bytes(small);
  ASSERT_TRUE(handler_.wait_records(2));
  auto got = handler_.records();
  ASSERT_TRUE(got[0].was_placed);
  EXPECT_EQ(got[0].placed_at, kHead);
  EXPECT_EQ(got[0].record.size(), kHead + 40);  // head and tail only
  EXPECT_EQ(got[0].whole(), body);
  EXPECT_FALSE(got[1].was_placed);
  EXPECT_EQ(got[1].record, (std::vector<uint8_t>{1, 2, 3, 4}));
}

TEST_F(RpcPlacementTest, PayloadThatEndsTheRecordWaitsForItsLastByte) {
  // With no tail, the shortened record is complete as soon as its head is buffered; it must
  // not be handed on before the placed bytes have all arrived.
  auto body = bulk_record(200000, 0, 2);
  auto wire = framed(body);
  const size_t first = 4 + kHead + 10;
  send_bytes({wire.data(), first});
  ASSERT_TRUE(handler_.wait_place_calls(1));
  send_bytes({wire.data() + first, wire.size() - first - 1});
  send_bytes({wire.data() + wire.size() - 1, 1});
  ASSERT_TRUE(handler_.wait_records(1));
  auto got = handler_.records();
  ASSERT_TRUE(got[0].was_placed);
  EXPECT_EQ(got[0].record.size(), kHead);
  EXPECT_EQ(got[0].whole(), body);
}

TEST_F(RpcPlacementTest, AnyCutOfTheStreamGivesBackTheRecordsSent) {
  // Placeable records of several sizes mixed with small ones, sent in random pieces (some a
  // byte long, some spanning records), eight times over with different cuts.
  std::mt19937 rng(42);
  std::vector<std::vector<uint8_t>> bodies;
  std::vector<uint8_t> stream;
  for (uint32_t i = 0; i < 40; ++i) {
    std::vector<uint8_t> body;
    switch (i % 4) {
      case 0:
        body = bulk_record(65536 + 4 * (rng() % 100000), rng() % 64, i);
        break;
      case 1:
        body = {static_cast<uint8_t>(i), 7, 7, 7};
        break;
      case 2:
        body = bulk_record(1 << 20, 0, i);
        break;
      default:
        body = bulk_record(70000, 100, i);
        break;
    }
    auto wire = framed(body);
    stream.insert(stream.end(), wire.begin(), wire.end());
    bodies.push_back(std::move(body));
  }
  size_t pos = 0;
  while (pos < stream.size()) {
    size_t piece = (rng() % 3 == 0) ? 1 + rng() % 16 : 1 + rng() % 300000;
    piece = std::min(piece, stream.size() - pos);
    send_bytes({stream.data() + pos, piece});
    pos += piece;
  }
  ASSERT_TRUE(handler_.wait_records(bodies.size()));
  auto got = handler_.records();
  ASSERT_EQ(got.size(), bodies.size());
  size_t placed = 0;
  for (size_t i = 0; i < bodies.size(); ++i) {
    EXPECT_EQ(got[i].whole(), bodies[i]) << "record " << i;
    if (got[i].was_placed) ++placed;
    if (i % 4 == 1) {
      EXPECT_FALSE(got[i].was_placed) << "record " << i << " is too short";
    }
  }
  EXPECT_GT(placed, 0u);
}

TEST_F(RpcPlacementTest, MultiFragmentRecordsAreNotPlaced) {
  auto body = bulk_record(100000, 8, 3);
  std::vector<uint8_t> wire(4);
  const size_t split = 70000;
  // First fragment without the last-fragment bit, then the rest as the last one.
  uint32_t h = static_cast<uint32_t>(split);
  wire = {static_cast<uint8_t>(h >> 24), static_cast<uint8_t>(h >> 16),
          static_cast<uint8_t>(h >> 8), static_cast<uint8_t>(h)};
  wire.insert(wire.end(), body.begin(), body.begin() + split);
  std::vector<uint8_t> rest(body.begin() + split, body.end());
  auto last = framed(rest);
  wire.insert(wire.end(), last.begin(), last.end());
  send_bytes({wire.data(), 4 + 100});
  send_bytes({wire.data() + 104, wire.size() - 104});
  ASSERT_TRUE(handler_.wait_records(1));
  auto got = handler_.records();
  EXPECT_FALSE(got[0].was_placed);
  EXPECT_EQ(got[0].record, body);
}

class RpcPlacementRefusedTest : public RpcPlacementTest,
                                public ::testing::WithParamInterface<ToyHandler::Mode> {};

TEST_P(RpcPlacementRefusedTest, BadOrNoPlacementReceivesTheRecordWhole) {
  handler_.mode = GetParam();
  auto body = bulk_record(100000, 12, 4);
  auto wire = framed(body);
  const size_t first = 4 + kHead + 16;
  send_bytes({wire.data(), first});
  ASSERT_TRUE(handler_.wait_place_calls(1));
  send_bytes({wire.data() + first, wire.size() - first});
  ASSERT_TRUE(handler_.wait_records(1));
  auto got = handler_.records();
  EXPECT_FALSE(got[0].was_placed);
  EXPECT_EQ(got[0].record, body);
}

INSTANTIATE_TEST_SUITE_P(Modes, RpcPlacementRefusedTest,
                         ::testing::Values(ToyHandler::Mode::kNothing, ToyHandler::Mode::kUnaligned,
                                           ToyHandler::Mode::kPastTheHead,
                                           ToyHandler::Mode::kPastTheRecord));

}  // namespace
}  // namespace dfs::rpc
