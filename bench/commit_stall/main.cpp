// dfs_commit_stall: does one client's COMMIT, waiting for the disk, hold up other clients?
//
// One "writer" connection writes BURST MiB UNSTABLE in 1 MiB WRITEs and then COMMITs, over
// and over; "probe" connections each do one GETATTR at a time and time it. The probes run
// twice, first alone (baseline) and then beside the writer, and print their rate and
// latency percentiles for each phase with the writer's COMMIT times. If a COMMIT blocked the
// thread that serves connections (a reactor), the probes on that reactor would wait as long
// as the COMMIT: their maximum latency would reach the COMMIT time. Run it against a server
// whose data lives on a real disk (fsync takes real time there; on tmpfs it takes none).
//
//   dfs_commit_stall --port P [--host H] [--export /export] [--probes 4] [--burst 64]
//                    [--seconds 5]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "client/nfs_client.h"
#include "nfs4/attributes.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace dfs::nfs4;  // NOLINT: the wire types, as the project client uses them
using dfs::testing::NfsClient;

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string export_path = "/export";
  unsigned probes = 4;
  unsigned burst_mib = 64;
  double seconds = 5;
};

// What a thread of the benchmark failed with, rethrown by the main thread after join.
class ThreadErrors {
 public:
  template <class F>
  void run(F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      std::lock_guard lock(mu_);
      if (first_.empty()) first_ = e.what();
    }
  }
  void rethrow() {
    if (!first_.empty()) throw std::runtime_error(first_);
  }

 private:
  std::mutex mu_;
  std::string first_;
};

double micros(Clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

// The q-quantile of `v` (sorted in place).
double quantile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

std::unique_ptr<NfsClient> connect(const Options& o, const std::string& owner) {
  auto c = std::make_unique<NfsClient>(o.host, o.port);
  // Room for a 1 MiB WRITE with its COMPOUND and RPC headers, as the Linux client asks.
  c->requested_fore.maxrequestsize = (1u << 20) + 16 * 1024;
  c->requested_fore.maxresponsesize = (1u << 20) + 16 * 1024;
  c->establish(owner, 4);
  return c;
}

// Each probe: GETATTR of the export's root, one at a time, until `stop`.
std::vector<double> probe_phase(const Options& o, std::vector<std::unique_ptr<NfsClient>>& probes,
                                double seconds) {
  std::vector<std::vector<double>> lat(probes.size());
  std::vector<std::thread> threads;
  ThreadErrors errors;
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  for (size_t i = 0; i < probes.size(); ++i) {
    threads.emplace_back([&, i] {
      errors.run([&] {
        NfsClient& c = *probes[i];
        Fh root = c.lookup_path(o.export_path);
        while (Clock::now() < end) {
          auto t0 = Clock::now();
          c.getattr_u64(root, FATTR4_CHANGE);  // throws unless NFS4_OK
          lat[i].push_back(micros(Clock::now() - t0));
        }
      });
    });
  }
  for (auto& t : threads)
    t.join();
  errors.rethrow();
  std::vector<double> all;
  for (auto& l : lat)
    all.insert(all.end(), l.begin(), l.end());
  return all;
}

void report(const char* name, std::vector<double> lat, double seconds) {
  double n = static_cast<double>(lat.size());
  double p50 = quantile(lat, 0.50), p99 = quantile(lat, 0.99), p999 = quantile(lat, 0.999);
  std::printf("%-22s %10.0f GETATTR/s  p50 %8.0f us  p99 %8.0f us  p99.9 %8.0f us  max %8.0f us\n",
              name, n / seconds, p50, p99, p999, lat.empty() ? 0 : lat.back());
}

int run(const Options& o) {
  std::vector<std::unique_ptr<NfsClient>> probes;
  for (unsigned i = 0; i < o.probes; ++i)
    probes.push_back(connect(o, "commit-stall-probe-" + std::to_string(i)));
  auto writer = connect(o, "commit-stall-writer");
  Fh dir = writer->lookup_path(o.export_path);
  const std::string name = "commit-stall-" + std::to_string(::getpid());
  auto file = writer->open_or_throw(dir, name, OPEN4_SHARE_ACCESS_BOTH);
  std::vector<uint8_t> chunk(1 << 20);
  for (size_t i = 0; i < chunk.size(); ++i)
    chunk[i] = static_cast<uint8_t>(i * 2654435761u >> 24);

  report("probes alone", probe_phase(o, probes, o.seconds), o.seconds);

  std::atomic<bool> stop{false};
  std::vector<double> commits;
  uint64_t written = 0;
  ThreadErrors writer_error;
  std::thread w([&] {
    writer_error.run([&] {
      uint64_t offset = 0;
      while (!stop.load()) {
        for (unsigned i = 0; i < o.burst_mib && !stop.load(); ++i) {
          if (writer->write(file, offset, chunk, UNSTABLE4) != NFS4_OK) {
            throw std::runtime_error("WRITE failed");
          }
          offset += chunk.size();
          written += chunk.size();
        }
        auto t0 = Clock::now();
        auto r = writer->call(
            writer->builder().op(OP_PUTFH, PutFhArgs{file.fh}).op(OP_COMMIT, CommitArgs{0, 0}));
        if (r.next_status(OP_PUTFH) != NFS4_OK || r.next_status(OP_COMMIT) != NFS4_OK) {
          throw std::runtime_error("COMMIT failed");
        }
        commits.push_back(micros(Clock::now() - t0));
        // Start over in place now and then, so the file stays a bounded size.
        if (offset >= (uint64_t{1} << 30)) offset = 0;
      }
    });
  });
  std::vector<double> beside;
  ThreadErrors probe_error;
  probe_error.run([&] { beside = probe_phase(o, probes, o.seconds); });
  stop = true;
  w.join();
  probe_error.rethrow();
  writer_error.rethrow();
  report("probes beside COMMITs", beside, o.seconds);
  const double commit_p50 = quantile(commits, 0.5);
  const double commit_max = commits.empty() ? 0 : commits.back();
  std::printf("writer: %zu COMMITs of %u MiB (%.0f MiB written)  COMMIT p50 %.0f us  max %.0f us\n",
              commits.size(), o.burst_mib, static_cast<double>(written) / (1 << 20), commit_p50,
              commit_max);
  writer->close(file);
  writer->remove(dir, name);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--host") {
        o.host = next();
      } else if (a == "--port") {
        o.port = static_cast<uint16_t>(std::stoul(next()));
      } else if (a == "--export") {
        o.export_path = next();
      } else if (a == "--probes") {
        o.probes = static_cast<unsigned>(std::stoul(next()));
      } else if (a == "--burst") {
        o.burst_mib = static_cast<unsigned>(std::stoul(next()));
      } else if (a == "--seconds") {
        o.seconds = std::stod(next());
      } else {
        throw std::invalid_argument("unknown option " + a);
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "dfs_commit_stall: %s\n", e.what());
      return 2;
    }
  }
  if (o.port == 0 || o.probes == 0 || o.burst_mib == 0) {
    std::fprintf(stderr,
                 "usage: dfs_commit_stall --port P [--host H] [--export /export] [--probes N] "
                 "[--burst MiB] [--seconds S]\n");
    return 2;
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dfs_commit_stall: %s\n", e.what());
    return 1;
  }
}
