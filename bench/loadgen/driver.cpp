#include "driver.h"

#include <latch>
#include <thread>

namespace dfs::bench {

void PhaseStats::merge(PhaseStats&& o) {
  ops += o.ops;
  compounds += o.compounds;
  bytes += o.bytes;
  lat_us.insert(lat_us.end(), o.lat_us.begin(), o.lat_us.end());
  for (auto& [k, v] : o.errors)
    errors[k] += v;
  for (auto& f : o.failures)
    failures.push_back(std::move(f));
}

uint64_t PhaseStats::error_count() const {
  uint64_t n = failures.size();
  for (const auto& [k, v] : errors)
    n += v;
  return n;
}

// ---- Slot ---------------------------------------------------------------------------------

CompoundBuilder Slot::begin() {
  CompoundBuilder b(1);
  b.op(OP_SEQUENCE, conn_->nfs_.next_sequence(id_));
  return b;
}

uint32_t Slot::next_seqid() {
  return conn_->nfs_.next_sequence(id_).sequenceid;
}

Slot::CompoundAwait Slot::call(const CompoundBuilder& b) {
  auto args = b.encode();
  return call_encoded(args.span());
}

Slot::CompoundAwait Slot::call_encoded(std::span<const uint8_t> args) {
  if (conn_->broken_) return {*this, false};
  sent_at_ = Clock::now();
  uint32_t xid = conn_->nfs_.rpc().send_call(kProgram, kVersion, kProcCompound, args);
  return {*this, conn_->track(*this, xid)};
}

Slot::NullAwait Slot::null() {
  if (conn_->broken_) return {*this, false};
  sent_at_ = Clock::now();
  uint32_t xid = conn_->nfs_.rpc().send_call(kProgram, kVersion, kProcNull, {});
  return {*this, conn_->track(*this, xid)};
}

CompoundReply Slot::CompoundAwait::await_resume() {
  if (!sent || slot.failed_) throw ConnectionBroken("connection broken");
  CompoundReply r(std::move(slot.reply_));
  auto& seqs = slot.conn_->nfs_.slot_seq;
  if (r.count == 0) {
    // Not even SEQUENCE ran: the slot's sequence id was not used.
    --seqs[slot.id_];
    return r;
  }
  auto sr = r.next<SequenceResult>(OP_SEQUENCE);
  if (sr.status != NFS4_OK) {
    --seqs[slot.id_];
    r.status = sr.status;
  }
  return r;
}

void Slot::NullAwait::await_resume() {
  if (!sent || slot.failed_) throw ConnectionBroken("connection broken");
  if (!slot.reply_.accepted_success()) throw ConnectionBroken("NULL not accepted");
}

bool Slot::check(nfsstat4 status, const std::string& what) {
  if (status == NFS4_OK) return true;
  conn_->stats_.errors[what + ": " + status_name(status)]++;
  return false;
}

// ---- Connection ---------------------------------------------------------------------------

Connection::Connection(int index, const std::string& host, uint16_t port, uint32_t uid,
                       uint32_t gid)
    : index_(index), nfs_(host, port, uid, gid) {
  nfs_.rpc().set_timeout(std::chrono::seconds(60));
}

void Connection::establish(uint32_t slots, uint32_t max_message) {
  nfs_.requested_fore.maxrequestsize = max_message;
  nfs_.requested_fore.maxresponsesize = max_message;
  nfs_.establish("", slots);
  slots_.clear();
  uint32_t n = std::min<uint32_t>(slots, static_cast<uint32_t>(nfs_.slot_seq.size()));
  for (uint32_t i = 0; i < n; ++i)
    slots_.push_back(std::make_unique<Slot>(*this, i));
}

void Connection::destroy() {
  if (!broken_) nfs_.destroy();
}

bool Connection::track(Slot& s, uint32_t xid) {
  if (xid == 0) {
    fail_all("send failed");
    return false;
  }
  s.failed_ = false;
  inflight_.emplace(xid, &s);
  return true;
}

void Connection::fail_all(const std::string& why) {
  if (!broken_) stats_.failures.push_back("connection " + std::to_string(index_) + ": " + why);
  broken_ = true;
  nfs_.rpc().close();
  // Wake every waiting slot; each throws ConnectionBroken out of its co_await.
  auto waiting = std::move(inflight_);
  inflight_.clear();
  for (auto& [xid, s] : waiting) {
    s->failed_ = true;
    std::exchange(s->waiter_, {}).resume();
  }
}

void Connection::drive() {
  while (!inflight_.empty()) {
    auto r = nfs_.rpc().wait_any();
    if (!r) {
      fail_all("no reply within the timeout, or the server closed the connection (" +
               std::to_string(inflight_.size()) + " requests in flight)");
      continue;
    }
    auto it = inflight_.find(r->xid);
    if (it == inflight_.end()) {
      stats_.failures.push_back("reply with unknown xid " + std::to_string(r->xid));
      continue;
    }
    Slot* s = it->second;
    inflight_.erase(it);
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - s->sent_at_);
    stats_.lat_us.push_back(static_cast<uint32_t>(us.count()));
    stats_.compounds++;
    s->reply_ = std::move(*r);
    std::exchange(s->waiter_, {}).resume();
  }
}

void Connection::run(const std::function<Task(Connection&, Slot&)>& body, size_t nslots) {
  std::vector<Task> tasks;
  nslots = std::min(nslots, slots_.size());
  tasks.reserve(nslots);
  for (size_t i = 0; i < nslots; ++i)
    tasks.push_back(body(*this, *slots_[i]));
  for (auto& t : tasks)
    t.start();
  drive();
  for (auto& t : tasks) {
    if (!t.done()) {
      stats_.failures.push_back("a slot did not finish");
      continue;
    }
    if (auto e = t.error()) {
      try {
        std::rethrow_exception(e);
      } catch (const ConnectionBroken&) {
        // already recorded once per connection
      } catch (const std::exception& ex) {
        stats_.failures.push_back("connection " + std::to_string(index_) + ": " + ex.what());
      }
    }
  }
}

PhaseResult run_phase(std::vector<std::unique_ptr<Connection>>& conns, const std::string& name,
                      const std::string& unit, const std::function<Task(Connection&, Slot&)>& body,
                      size_t nslots) {
  PhaseResult res;
  res.name = name;
  res.unit = unit;
  std::latch ready(static_cast<std::ptrdiff_t>(conns.size() + 1));
  std::vector<std::thread> threads;
  for (auto& c : conns) {
    c->stats() = PhaseStats{};
    threads.emplace_back([&, conn = c.get()] {
      ready.arrive_and_wait();
      conn->run(body, nslots);
    });
  }
  ready.arrive_and_wait();
  auto t0 = Clock::now();
  for (auto& t : threads)
    t.join();
  res.elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
  for (auto& c : conns)
    res.stats.merge(std::move(c->stats()));
  return res;
}

}  // namespace dfs::bench
