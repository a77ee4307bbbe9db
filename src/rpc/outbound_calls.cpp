#include "rpc/outbound_calls.h"

#include <random>

#include <spdlog/spdlog.h>

namespace dfs::rpc {

OutboundCalls::OutboundCalls() : next_xid_(std::random_device{}()) {}

OutboundCalls::~OutboundCalls() {
  stop();
}

void OutboundCalls::start() {
  std::lock_guard lock(mu_);
  if (timer_.joinable()) return;
  stop_ = false;
  timer_ = std::thread([this] { timer_loop(); });
}

void OutboundCalls::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (timer_.joinable()) timer_.join();
  // Whatever still waits ends now, as if its connection had closed.
  std::unordered_map<uint32_t, Pending> left;
  {
    std::lock_guard lock(mu_);
    left.swap(calls_);
    deadlines_.clear();
  }
  for (auto& [xid, p] : left)
    p.done(std::nullopt, CallFailure::kConnectionClosed);
}

uint32_t OutboundCalls::next_xid() {
  uint32_t x;
  do {
    x = next_xid_.fetch_add(1, std::memory_order_relaxed);
  } while (x == 0);
  return x;
}

bool OutboundCalls::send(const std::shared_ptr<Connection>& conn, uint32_t xid, OutboundMessage msg,
                         std::chrono::milliseconds timeout, Done done) {
  const auto deadline = Clock::now() + timeout;
  {
    std::lock_guard lock(mu_);
    calls_[xid] = Pending{conn->id(), deadline, std::move(done)};
    deadlines_.emplace(deadline, xid);
  }
  cv_.notify_all();
  // Registered before sending: the reply may be read by the reactor before send() returns.
  if (conn->send(std::move(msg))) return true;
  Done failed;
  {
    std::lock_guard lock(mu_);
    auto it = calls_.find(xid);
    if (it == calls_.end()) return false;  // ended meanwhile (closed, or answered)
    failed = std::move(it->second.done);
    calls_.erase(it);
  }
  failed(std::nullopt, CallFailure::kNotSent);
  return false;
}

bool OutboundCalls::on_reply(const std::shared_ptr<Connection>& conn, uint32_t xid,
                             std::span<const uint8_t> record) {
  Done done;
  {
    std::lock_guard lock(mu_);
    auto it = calls_.find(xid);
    if (it == calls_.end() || it->second.conn_id != conn->id()) {
      unmatched_.fetch_add(1, std::memory_order_relaxed);
      if (unmatched_hook_) unmatched_hook_();
      spdlog::debug("connection {}: reply with xid {:#x} matches no call, dropped", conn->id(),
                    xid);
      return false;
    }
    done = std::move(it->second.done);
    calls_.erase(it);  // its deadline entry is skipped when it comes up
  }
  CallReply reply;
  reply.record.append(record.data(), record.size());
  xdr::Decoder d(reply.record.span());
  uint32_t x = 0;
  MsgType type{};
  if (!decode_xid_and_type(d, x, type) || !decode_reply_header(d, reply.header)) {
    // A reply we cannot read is as good as none.
    done(std::nullopt, CallFailure::kConnectionClosed);
    return true;
  }
  reply.body_offset = static_cast<size_t>(d.cursor() - reply.record.data());
  done(std::move(reply), CallFailure::kTimeout);
  return true;
}

void OutboundCalls::connection_closed(uint64_t conn_id) {
  std::vector<Done> ended;
  {
    std::lock_guard lock(mu_);
    for (auto it = calls_.begin(); it != calls_.end();) {
      if (it->second.conn_id == conn_id) {
        ended.push_back(std::move(it->second.done));
        it = calls_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& d : ended)
    d(std::nullopt, CallFailure::kConnectionClosed);
}

size_t OutboundCalls::pending() const {
  std::lock_guard lock(mu_);
  return calls_.size();
}

void OutboundCalls::timer_loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (deadlines_.empty()) {
      cv_.wait(lock, [this] { return stop_ || !deadlines_.empty(); });
      continue;
    }
    auto first = deadlines_.begin();
    if (Clock::now() < first->first) {
      cv_.wait_until(lock, first->first);
      continue;
    }
    const uint32_t xid = first->second;
    const auto deadline = first->first;
    deadlines_.erase(first);
    auto it = calls_.find(xid);
    // A call answered already (or a reused xid with a later deadline) has nothing to end.
    if (it == calls_.end() || it->second.deadline != deadline) continue;
    Done done = std::move(it->second.done);
    calls_.erase(it);
    lock.unlock();
    done(std::nullopt, CallFailure::kTimeout);
    lock.lock();
  }
}

}  // namespace dfs::rpc
