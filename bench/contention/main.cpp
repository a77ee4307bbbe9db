// dfs_contention: the state layer's hot paths driven by N threads in-process, printing
// operations per second for each thread count. Each thread plays one NFS client on its own
// reactor (its own client record, session and connection), so in NFS terms the threads share
// nothing; whatever slows them down as threads are added is memory the server shares and
// writes. On a 2-core machine the trend between 1 and 2 threads shows; a many-core machine
// shows the whole curve.
//
//   dfs_contention [--threads 1,2,4,8] [--ms 400] [--case NAME ...]
//
// Cases:
//   compound-seq     a whole SEQUENCE-only COMPOUND through the NFS program (settings
//                    snapshot, session lookup, slot table, reply cache, metrics)
//   read-shared      SEQUENCE + PUTFH + READ 4 KiB of one file every thread reads (namespace,
//                    stateid check, metadata and block store on one file)
//   read-own         the same, each thread on its own file
//   read-shared-durable  read-shared on the durable stores (RocksDB metadata, content in
//                    files, in a temporary directory; the file's pages in the page cache)
//   write-own        SEQUENCE + PUTFH + WRITE 4 KiB (UNSTABLE), each thread on its own file
//   write-own-durable  the same on the durable stores (RocksDB metadata, content in files, in
//                    a temporary directory): each WRITE also appends the inode record to the
//                    one RocksDB log of the share (UNSTABLE: no sync)
//   write-shared     WRITE 4 KiB (UNSTABLE) into one 1 MiB file every thread writes (the
//                    load generator's randwrite: many clients, one file)
//   write-shared-durable  the same on the durable stores
//   sequence         StateManager::sequence + finish_request on the thread's own session
//   check-io-shared  the READ stateid check, every thread's open on one shared file
//   check-io-own     the READ stateid check, each thread on its own file
//   open-close       OPEN + CLOSE state changes, each thread on its own files
//   metrics          one operation's metrics (a counter and a latency histogram)

#include <stdlib.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "client/nfs_client.h"
#include "metrics/nfs_metrics.h"
#include "metrics/registry.h"
#include "nfs4/program.h"
#include "nfs4/service.h"
#include "rpc/dispatcher.h"
#include "rpc/tcp_server.h"
#include "vfs/block/fs_store.h"
#include "vfs/block/memory_store.h"
#include "vfs/metadata/memory_store.h"
#include "vfs/metadata/rocksdb_store.h"
#include "vfs/namespace.h"
#include "vfs/store_file_system.h"
#include "xdr/decoder.h"
#include "xdr/encoder.h"

namespace dfs::bench {
namespace {

using namespace dfs::nfs4;  // NOLINT: the wire types
using Clock = std::chrono::steady_clock;

// One thread's work: called in a loop until the phase ends; returns operations done.
using Step = std::function<uint64_t()>;

// Builds the per-thread steps of a case for `threads` threads (set-up is not timed).
using Setup = std::function<std::vector<Step>(unsigned threads)>;

struct Case {
  std::string name;
  Setup setup;
};

// A directory for the durable share, removed (after the share's stores, declared after it,
// are closed) at exit.
struct TempDir {
  std::string path = [] {
    char tmpl[] = "/tmp/dfs-contention.XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    if (!made) std::abort();
    return std::string(made);
  }();
  ~TempDir() { std::filesystem::remove_all(path); }
};

// The server side shared by every case: settings, a namespace, the NFS service with its
// metrics attached, as the daemon wires them.
struct Server {
  TempDir durable_dir;
  SettingsHolder settings;
  vfs::Namespace ns;
  Nfs4Service svc{ns, settings};
  metrics::Registry registry;
  rpc::Dispatcher dispatcher;
  rpc::TcpServer transport{rpc::TcpServerOptions{}, dispatcher};
  std::unique_ptr<metrics::NfsMetrics> metrics =
      metrics::attach_nfs_metrics(registry, svc, transport);
  Nfs4Program program{svc};
  std::atomic<uint64_t> next_conn{1};
  std::shared_ptr<vfs::FileSystem> fs = std::make_shared<vfs::StoreFileSystem>(
      1, std::make_shared<vfs::MemoryMetadataStore>(), std::make_shared<vfs::MemoryBlockStore>(),
      false, std::nullopt);
  std::shared_ptr<vfs::FileSystem> durable_fs = std::make_shared<vfs::StoreFileSystem>(
      2, std::make_shared<vfs::RocksDbMetadataStore>(durable_dir.path + "/metadata"),
      std::make_shared<vfs::FsBlockStore>(durable_dir.path + "/blocks"), false, std::nullopt);
  uint32_t fs_index = share("/export", fs);
  uint32_t durable_index = share("/durable", durable_fs);

  uint32_t share(const std::string& path, std::shared_ptr<vfs::FileSystem> f) {
    // The benchmark's clients are root and own the files it measures: no squashing.
    vfs::ShareOptions opts;
    opts.root_squash = false;
    auto r = ns.add_share(path, std::move(f), opts);
    if (!r.ok()) std::abort();
    return *r;
  }
};

// A 1 MiB file in the share, written once; returns its handle and key.
struct BenchFile {
  Fh fh;
  state::FileKey key;
};
BenchFile make_file(Server& s, bool durable = false) {
  static std::atomic<uint32_t> serial{0};
  vfs::Identity root{0, 0, {}};
  std::string name = "f";
  name += std::to_string(serial++);  // (not "f" + ...: GCC 12 -Wrestrict false positive)
  vfs::FileSystem& fs = durable ? *s.durable_fs : *s.fs;
  const uint32_t index = durable ? s.durable_index : s.fs_index;
  auto made =
      fs.create_file(root, fs.root(), name, vfs::CreateMode::kUnchecked, vfs::SetAttributes{});
  if (!made.ok()) std::abort();
  std::vector<uint8_t> data(1u << 20, 0x5a);
  if (!fs.write(made->attrs.id, 0, data, false).ok()) std::abort();
  vfs::FileHandle h{index, made->attrs.id, made->attrs.generation};
  auto bytes = h.encode();
  BenchFile f;
  f.fh.len = static_cast<uint32_t>(bytes.size());
  std::copy(bytes.begin(), bytes.end(), f.fh.data.begin());
  f.key = {index, made->attrs.id};
  return f;
}

// Runs one COMPOUND through the NFS program as a reactor would; aborts unless it succeeded.
void run_compound(Server& s, const std::shared_ptr<rpc::Connection>& conn,
                  const testing::CompoundBuilder& b) {
  xdr::ByteBuffer args = b.encode();
  rpc::CallContext ctx;
  ctx.procedure = 1;
  ctx.version = 4;
  ctx.cred.flavor = rpc::AuthFlavor::kSys;
  ctx.cred.uid = 0;
  ctx.cred.gid = 0;
  ctx.conn = &conn;
  ctx.record_size = args.size();
  xdr::Decoder d(args.span());
  xdr::ByteBuffer out;
  xdr::Encoder e(out);
  if (s.program.call(ctx, d, e) != rpc::AcceptStat::kSuccess) std::abort();
  // The COMPOUND status is the reply's first word.
  const uint8_t* p = out.data();
  if (p[0] | p[1] | p[2] | p[3]) std::abort();
}

std::shared_ptr<rpc::Connection> make_conn(Server& s) {
  // Never written to: a Connection needs a socket only to send.
  uint64_t id = s.next_conn++;
  return std::make_shared<rpc::Connection>(id, -1, "bench-" + std::to_string(id), nullptr);
}

ChannelAttrs channel(uint32_t slots) {
  ChannelAttrs a;
  a.maxrequestsize = 1u << 20;
  a.maxresponsesize = 1u << 20;
  a.maxresponsesize_cached = 64u << 10;
  a.maxoperations = 16;
  a.maxrequests = slots;
  return a;
}

// One simulated client: a confirmed client id, a session, the connection it arrived on.
struct BenchClient {
  std::shared_ptr<rpc::Connection> conn;
  uint64_t clientid = 0;
  SessionId sid{};
  std::shared_ptr<state::Session> session;
  uint32_t seqid = 0;
};

BenchClient make_client(Server& s, unsigned n) {
  static std::atomic<uint32_t> serial{0};
  BenchClient c;
  c.conn = make_conn(s);
  ExchangeIdArgs ea;
  std::string owner = "bench-" + std::to_string(n) + "-" + std::to_string(serial++);
  ea.clientowner.ownerid.assign(owner.begin(), owner.end());
  ea.clientowner.verifier.fill(static_cast<uint8_t>(n));
  ExchangeIdOk eo;
  state::Principal who{rpc::AuthFlavor::kSys, 0};
  if (s.svc.state.exchange_id(ea, who, c.conn->peer(), 1, eo) != NFS4_OK) std::abort();
  CreateSessionArgs ca;
  ca.clientid = eo.clientid;
  ca.sequence = eo.sequenceid;
  ca.fore = channel(16);
  ca.back = channel(1);
  CreateSessionOk co;
  if (s.svc.state.create_session(ca, who, c.conn, co) != NFS4_OK) std::abort();
  c.clientid = eo.clientid;
  c.sid = co.sessionid;
  // The session object itself, for the calls that take it.
  SequenceArgs sa;
  sa.sessionid = c.sid;
  sa.sequenceid = ++c.seqid;
  SequenceOk so;
  auto out = s.svc.state.sequence(sa, 0, c.conn, 100, 1, 100, so);
  if (out.status != NFS4_OK) std::abort();
  c.session = out.session;
  s.svc.state.finish_request(*c.session, 0, false, {});
  if (s.svc.state.reclaim_complete(*c.session->client, false) != NFS4_OK) std::abort();
  return c;
}

Stateid open_file(Server& s, BenchClient& c, const state::FileKey& file, uint32_t access) {
  state::OwnerKey owner{c.clientid, "open-owner"};
  Stateid sid;
  auto guard = s.svc.state.lock_file(file);
  if (s.svc.state.open_locked(*c.session->client, owner, file, access, OPEN4_SHARE_DENY_NONE,
                              sid) != NFS4_OK) {
    std::abort();
  }
  return sid;
}

std::vector<Case> all_cases(Server& s) {
  std::vector<Case> cases;

  cases.push_back({"compound-seq", [&s](unsigned threads) {
                     std::vector<Step> steps;
                     for (unsigned t = 0; t < threads; ++t) {
                       auto c = std::make_shared<BenchClient>(make_client(s, t));
                       steps.push_back([&s, c] {
                         SequenceArgs sa;
                         sa.sessionid = c->sid;
                         sa.sequenceid = ++c->seqid;
                         testing::CompoundBuilder b;
                         b.op(OP_SEQUENCE, sa);
                         xdr::ByteBuffer args = b.encode();
                         rpc::CallContext ctx;
                         ctx.procedure = 1;
                         ctx.version = 4;
                         ctx.conn = &c->conn;
                         ctx.record_size = args.size();
                         xdr::Decoder d(args.span());
                         xdr::ByteBuffer out;
                         xdr::Encoder e(out);
                         if (s.program.call(ctx, d, e) != rpc::AcceptStat::kSuccess) std::abort();
                         return uint64_t{1};
                       });
                     }
                     return steps;
                   }});

  auto io = [&s](bool shared, bool write, bool durable = false) {
    return [&s, shared, write, durable](unsigned threads) {
      std::vector<Step> steps;
      std::optional<BenchFile> common;
      if (shared) common = make_file(s, durable);
      for (unsigned t = 0; t < threads; ++t) {
        auto c = std::make_shared<BenchClient>(make_client(s, t));
        BenchFile f = shared ? *common : make_file(s, durable);
        Stateid sid = open_file(s, *c, f.key, OPEN4_SHARE_ACCESS_BOTH);
        auto n = std::make_shared<uint64_t>(t * 7919);
        std::vector<uint8_t> data(4096, 0x33);
        steps.push_back([&s, c, f, sid, n, data, write] {
          SequenceArgs sa;
          sa.sessionid = c->sid;
          sa.sequenceid = ++c->seqid;
          testing::CompoundBuilder b;
          b.op(OP_SEQUENCE, sa).op(OP_PUTFH, PutFhArgs{f.fh});
          const uint64_t offset = ((*n)++ * 4096) % (1u << 20);
          if (write) {
            WriteArgs wa;
            wa.stateid = sid;
            wa.offset = offset;
            wa.stable = UNSTABLE4;
            wa.data.bytes = data;
            b.op(OP_WRITE, wa);
          } else {
            b.op(OP_READ, ReadArgs{sid, offset, 4096});
          }
          run_compound(s, c->conn, b);
          return uint64_t{1};
        });
      }
      return steps;
    };
  };
  cases.push_back({"read-shared", io(true, false)});
  cases.push_back({"read-own", io(false, false)});
  cases.push_back({"read-shared-durable", io(true, false, true)});
  cases.push_back({"write-own", io(false, true)});
  cases.push_back({"write-shared", io(true, true)});
  cases.push_back({"write-own-durable", io(false, true, true)});
  cases.push_back({"write-shared-durable", io(true, true, true)});

  cases.push_back({"sequence", [&s](unsigned threads) {
                     std::vector<Step> steps;
                     for (unsigned t = 0; t < threads; ++t) {
                       auto c = std::make_shared<BenchClient>(make_client(s, t));
                       steps.push_back([&s, c] {
                         SequenceArgs sa;
                         sa.sessionid = c->sid;
                         sa.sequenceid = ++c->seqid;
                         SequenceOk so;
                         auto out = s.svc.state.sequence(sa, 1, c->conn, 100, 1, 100, so);
                         if (out.status != NFS4_OK) std::abort();
                         s.svc.state.finish_request(*out.session, 0, false, {});
                         return uint64_t{1};
                       });
                     }
                     return steps;
                   }});

  auto check_io = [&s](bool shared) {
    return [&s, shared](unsigned threads) {
      static std::atomic<uint64_t> inode{1000};
      uint64_t base = inode.fetch_add(threads + 1);
      std::vector<Step> steps;
      for (unsigned t = 0; t < threads; ++t) {
        auto c = std::make_shared<BenchClient>(make_client(s, t));
        state::FileKey file{1, shared ? base : base + 1 + t};
        Stateid sid = open_file(s, *c, file, OPEN4_SHARE_ACCESS_BOTH);
        steps.push_back([&s, c, file, sid] {
          for (int i = 0; i < 16; ++i) {
            if (s.svc.state.check_io(c->session->client.get(), sid, file, i & 1) != NFS4_OK) {
              std::abort();
            }
          }
          return uint64_t{16};
        });
      }
      return steps;
    };
  };
  cases.push_back({"check-io-shared", check_io(true)});
  cases.push_back({"check-io-own", check_io(false)});

  cases.push_back({"open-close", [&s](unsigned threads) {
                     static std::atomic<uint64_t> inode{1u << 30};
                     std::vector<Step> steps;
                     for (unsigned t = 0; t < threads; ++t) {
                       auto c = std::make_shared<BenchClient>(make_client(s, t));
                       uint64_t base = inode.fetch_add(1u << 20);
                       auto n = std::make_shared<uint64_t>(0);
                       steps.push_back([&s, c, base, n] {
                         state::FileKey file{1, base + (*n)++ % 4096};
                         Stateid sid = open_file(s, *c, file, OPEN4_SHARE_ACCESS_READ);
                         Stateid out;
                         if (s.svc.state.close(*c->session->client, sid, file, out) != NFS4_OK) {
                           std::abort();
                         }
                         return uint64_t{1};
                       });
                     }
                     return steps;
                   }});

  cases.push_back({"metrics", [&s](unsigned threads) {
                     std::vector<Step> steps;
                     for (unsigned t = 0; t < threads; ++t) {
                       steps.push_back([&s] {
                         for (int i = 0; i < 16; ++i) {
                           s.metrics->op_done(OP_READ, NFS4_OK, std::chrono::nanoseconds(900));
                         }
                         return uint64_t{16};
                       });
                     }
                     return steps;
                   }});
  return cases;
}

// Runs the steps on their own threads for `ms` milliseconds; returns operations per second.
double run(std::vector<Step>& steps, int ms) {
  const size_t n = steps.size();
  std::atomic<bool> stop{false};
  std::vector<uint64_t> done(n * 16, 0);  // one cache line apart per thread
  std::barrier start(static_cast<std::ptrdiff_t>(n + 1));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      uint64_t ops = 0;
      while (!stop.load(std::memory_order_relaxed))
        ops += steps[i]();
      done[i * 16] = ops;
    });
  }
  start.arrive_and_wait();
  auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  stop = true;
  for (auto& t : threads)
    t.join();
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i)
    total += done[i * 16];
  return static_cast<double>(total) / secs;
}

std::vector<unsigned> parse_list(const char* s) {
  std::vector<unsigned> out;
  while (*s) {
    out.push_back(static_cast<unsigned>(std::strtoul(s, nullptr, 10)));
    const char* comma = std::strchr(s, ',');
    if (!comma) break;
    s = comma + 1;
  }
  return out;
}

}  // namespace
}  // namespace dfs::bench

int main(int argc, char** argv) {
  using namespace dfs::bench;
  std::vector<unsigned> threads;
  int ms = 400;
  std::vector<std::string> wanted;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) {
      threads = parse_list(argv[++i]);
    } else if (a == "--ms" && i + 1 < argc) {
      ms = std::atoi(argv[++i]);
    } else if (a == "--case" && i + 1 < argc) {
      wanted.push_back(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--threads 1,2,4] [--ms 400] [--case NAME ...]\n", argv[0]);
      return 2;
    }
  }
  if (threads.empty()) {
    unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned t = 1; t <= hw; t *= 2)
      threads.push_back(t);
    if (threads.back() != hw) threads.push_back(hw);
  }
  Server server;
  std::printf("%-18s %8s %14s %14s %8s\n", "case", "threads", "ops/s", "ops/s/thread", "vs 1");
  for (auto& c : all_cases(server)) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), c.name) == wanted.end()) {
      continue;
    }
    double one = 0;
    for (unsigned t : threads) {
      auto steps = c.setup(t);
      double rate = run(steps, ms);
      if (t == threads.front()) one = rate / t;
      std::printf("%-18s %8u %14.0f %14.0f %7.2fx\n", c.name.c_str(), t, rate, rate / t,
                  one > 0 ? rate / one : 0.0);
      std::fflush(stdout);
    }
  }
  return 0;
}
