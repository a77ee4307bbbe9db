#include "driver.h"

#include "rpc/auth.h"
#include "rpc/constants.h"
#include "rpc/message.h"
#include "rpc/record_framer.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fstream>
#include <latch>
#include <sstream>
#include <thread>

namespace dfs::bench {
namespace {

// Writes every byte the gather list names (a blocking socket; partial writes resume).
bool send_all(int fd, std::vector<iovec>& iov) {
  constexpr size_t kMaxIov = 512;
  size_t first = 0;
  while (first < iov.size()) {
    msghdr msg{};
    msg.msg_iov = iov.data() + first;
    msg.msg_iovlen = std::min(kMaxIov, iov.size() - first);
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    auto left = static_cast<size_t>(n);
    while (first < iov.size() && left >= iov[first].iov_len) {
      left -= iov[first].iov_len;
      ++first;
    }
    if (left > 0) {
      iov[first].iov_base = static_cast<uint8_t*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  return true;
}

}  // namespace

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

double process_cpu_seconds(int pid) {
  if (pid == 0) {
    rusage ru{};
    if (::getrusage(RUSAGE_SELF, &ru) != 0) return -1;
    auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return sec(ru.ru_utime) + sec(ru.ru_stime);
  }
  // /proc/PID/stat: utime and stime are fields 14 and 15, after the ")" ending the name.
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
  auto close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
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
  return submit(args.span(), false);  // copied: `args` is gone before the queue is sent
}

Slot::CompoundAwait Slot::call_encoded(std::span<const uint8_t> args) {
  return submit(args, true);
}

Slot::CompoundAwait Slot::submit(std::span<const uint8_t> args, bool by_reference) {
  if (conn_->broken_) return {*this, false};
  sent_at_ = Clock::now();
  return {*this, conn_->track(*this, conn_->queue_call(kProcCompound, args, by_reference))};
}

Slot::NullAwait Slot::null() {
  if (conn_->broken_) return {*this, false};
  sent_at_ = Clock::now();
  return {*this, conn_->track(*this, conn_->queue_call(kProcNull, {}))};
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
  cred_ = rpc::encode_auth_sys(0, "dfs-loadgen", uid, gid, {});
  next_xid_ = 0x40000000u + static_cast<uint32_t>(index) * 0x01000000u;
}

uint32_t Connection::queue_call(uint32_t proc, std::span<const uint8_t> args, bool by_reference) {
  if (broken_) return 0;
  const size_t start = pending_.size();
  xdr::Encoder e(pending_);
  e.u32(0);  // record mark, written below
  rpc::CallHeader h;
  if (next_xid_ == 0) ++next_xid_;  // 0 means "not sent" to track()
  h.xid = next_xid_++;
  h.rpc_version = rpc::kRpcVersion;
  h.program = kProgram;
  h.version = kVersion;
  h.procedure = proc;
  h.cred = {rpc::AuthFlavor::kSys, cred_};
  h.verf = {rpc::AuthFlavor::kNone, {}};
  rpc::encode_call_header(e, h);
  const size_t header = pending_.size() - start - 4;
  if (by_reference) {
    borrowed_.push_back({pending_.size(), args});
  } else {
    pending_.append(args.data(), args.size());
  }
  rpc::write_record_mark(pending_.data() + start, static_cast<uint32_t>(header + args.size()));
  return h.xid;
}

bool Connection::flush() {
  if ((pending_.empty() && borrowed_.empty()) || broken_) return !broken_;
  std::vector<iovec> iov;
  size_t from = 0;
  for (const auto& b : borrowed_) {
    if (b.at > from) iov.push_back({pending_.data() + from, b.at - from});
    iov.push_back({const_cast<uint8_t*>(b.bytes.data()), b.bytes.size()});
    from = b.at;
  }
  if (pending_.size() > from) iov.push_back({pending_.data() + from, pending_.size() - from});
  bool ok = send_all(nfs_.rpc().fd(), iov);
  pending_.clear();
  borrowed_.clear();
  if (!ok) fail_all("send failed");
  return ok;
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
  pending_.clear();
  borrowed_.clear();
  nfs_.rpc().close();
  // Wake every waiting slot; each throws ConnectionBroken out of its co_await.
  auto waiting = std::move(inflight_);
  inflight_.clear();
  for (auto& [xid, s] : waiting) {
    s->failed_ = true;
    std::exchange(s->waiter_, {}).resume();
  }
}

// Replies that are already here are handled first; the requests their slots queue meanwhile
// go out together in one write when no further reply is waiting. On loopback most of the
// client's CPU time is the kernel's TCP work per write, so batching lets one client keep the
// server busy.
void Connection::drive() {
  auto& rpc = nfs_.rpc();
  while (!inflight_.empty()) {
    rpc.set_timeout(std::chrono::milliseconds(0));
    auto r = rpc.wait_any();
    if (!r) {
      if (!flush()) continue;
      rpc.set_timeout(std::chrono::seconds(60));
      r = rpc.wait_any();
    }
    if (!r) {
      fail_all("no reply within 60 s, or the server closed the connection (" +
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
  pending_.clear();
  borrowed_.clear();
  rpc.set_timeout(std::chrono::seconds(60));
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
                      size_t nslots, int server_pid) {
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
  double client0 = process_cpu_seconds(0);
  double server0 = server_pid > 0 ? process_cpu_seconds(server_pid) : -1;
  ready.arrive_and_wait();
  auto t0 = Clock::now();
  for (auto& t : threads)
    t.join();
  res.elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
  res.client_cpu_s = process_cpu_seconds(0) - client0;
  if (server0 >= 0) {
    double server1 = process_cpu_seconds(server_pid);
    if (server1 >= 0) res.server_cpu_s = server1 - server0;
  }
  for (auto& c : conns)
    res.stats.merge(std::move(c->stats()));
  return res;
}

}  // namespace dfs::bench
