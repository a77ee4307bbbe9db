// dfs_powercut: the power-cut test (opt-in: `cmake --build build-ci --target powercut`).
//
// dfs runs inside a QEMU VM with its data directory on a virtual disk (ext4 on virtio);
// this program, on the host, writes to it over NFSv4.1 through a forwarded port with a mix
// of FILE_SYNC, DATA_SYNC and UNSTABLE + COMMIT writes and creates names, and after a random
// number of acknowledgements kills QEMU with SIGKILL: a power cut for the guest, whose
// page cache is lost with everything dfs wrote and did not sync. The VM boots again on the
// same disk and every byte and name acknowledged as stable must be there, with no file
// holding bytes it was never sent. (QEMU writes the disk image through the host's page
// cache, which the kill does not lose: the disk itself is modelled as one that keeps what
// it was given, so this tests that dfs syncs, not how a disk loses its write cache.)
//
//   dfs_powercut --image-script tests/powercut/build_image.sh --dfs build-ci/src/dfs
//                [--rounds 5] [--cache ~/.cache/dfs-powercut] [--keep]
//
// Ends with "N passed, N failed" (one check per round and per verified file).

#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "free_port.h"
#include "nfs4_test_util.h"

namespace {

using namespace dfs::nfs4;  // NOLINT: the wire types, as the project client uses them
using dfs::testing::free_port;
using dfs::testing::NfsClient;
using Clock = std::chrono::steady_clock;

constexpr size_t kRecord = 6000;  // not a multiple of a page
constexpr size_t kRecords = 200;

struct Options {
  std::string image_script;
  std::string dfs;
  std::string cache;
  int rounds = 5;
  bool keep = false;
};

// The output of a shell command; throws if it fails.
std::string run(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
    out.append(buf, n);
  if (::pclose(p) != 0) throw std::runtime_error("failed: " + cmd + "\n" + out);
  return out;
}

std::vector<uint8_t> pattern(size_t n, uint64_t seed) {
  std::vector<uint8_t> v(n);
  std::mt19937_64 rng(seed);
  for (auto& b : v)
    b = static_cast<uint8_t>(rng());
  return v;
}

// QEMU running dfs on the disk image; killed (a power cut) by kill() or the destructor.
class Vm {
 public:
  Vm(std::string kernel, std::string initrd, std::string disk, std::string console)
      : kernel_(std::move(kernel)),
        initrd_(std::move(initrd)),
        disk_(std::move(disk)),
        console_(std::move(console)) {}
  ~Vm() { kill(); }

  void boot(uint16_t port) {
    const std::string fwd =
        "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:" + std::to_string(port) + "-:2049";
    const std::string drive = "file=" + disk_ + ",format=raw,if=virtio,cache=writeback";
    const std::string serial = "file:" + console_;
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // dies with this program
      ::execlp("qemu-system-x86_64", "qemu-system-x86_64", "-machine", "q35", "-m", "1024", "-smp",
               "2", "-nodefaults", "-display", "none", "-no-reboot", "-accel", "tcg", "-kernel",
               kernel_.c_str(), "-initrd", initrd_.c_str(), "-append",
               "console=ttyS0 panic=-1 quiet", "-serial", serial.c_str(), "-drive", drive.c_str(),
               "-netdev", fwd.c_str(), "-device", "virtio-net-pci,netdev=n0",
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  // SIGKILL: the guest loses its page cache, as in a power failure.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  std::string kernel_, initrd_, disk_, console_;
  pid_t pid_ = -1;
};

// A client with a session on the VM's dfs, once it answers (3 minutes at most: a boot
// under software emulation takes a few seconds, dfs's start with recovery a few more).
std::unique_ptr<NfsClient> connect(uint16_t port, const std::string& owner) {
  const auto deadline = Clock::now() + std::chrono::minutes(3);
  std::string last;
  while (Clock::now() < deadline) {
    try {
      auto c = std::make_unique<NfsClient>("127.0.0.1", port);
      c->establish(owner);
      return c;
    } catch (const std::exception& e) {
      last = e.what();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  throw std::runtime_error("dfs in the VM did not answer within 3 minutes: " + last);
}

struct Acked {
  size_t records = 0;
  size_t names = 0;
};

// Writes round `round`'s log file until `stop` or an error (the power cut); counts what was
// acknowledged as stable.
void write_round(NfsClient& c, int round, std::atomic<bool>& stop, std::mutex& mu, Acked& acked) {
  Fh root = c.lookup_path("/export");
  const std::string log = "log" + std::to_string(round);
  auto o = c.open_or_throw(root, log, OPEN4_SHARE_ACCESS_BOTH);
  const auto data = pattern(kRecord * kRecords, round);
  for (size_t i = 0; i < kRecords && !stop; ++i) {
    std::span<const uint8_t> rec(data.data() + i * kRecord, kRecord);
    const stable_how4 how = i % 3 == 0 ? FILE_SYNC4 : i % 3 == 1 ? DATA_SYNC4 : UNSTABLE4;
    auto w = dfs::testing::do_write(c, o.fh, o.stateid, i * kRecord, rec, how);
    if (w.status != NFS4_OK) return;
    // What the server says it made stable must be at least what was asked.
    if (how != UNSTABLE4 && w.ok.committed < how) throw std::runtime_error("weaker stability");
    if (how == UNSTABLE4) {
      auto cm = c.call(c.builder().op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_COMMIT, CommitArgs{0, 0}));
      if (cm.status != NFS4_OK) return;
    }
    {
      std::lock_guard lock(mu);
      acked.records = i + 1;
    }
    if (i % 4 == 0) {
      auto n = c.open_or_throw(root, log + "_" + std::to_string(i / 4), OPEN4_SHARE_ACCESS_BOTH);
      c.close(n);
      std::lock_guard lock(mu);
      acked.names = i / 4 + 1;
    }
  }
}

struct Tally {
  int passed = 0;
  int failed = 0;
  void check(bool ok, const std::string& what) {
    if (ok) {
      ++passed;
    } else {
      ++failed;
      std::printf("FAIL: %s\n", what.c_str());
    }
  }
};

// Every round so far: the acknowledged records and names are there, nothing unsent is.
void verify(NfsClient& c, const std::vector<Acked>& acked, Tally& t) {
  Fh root = c.lookup_path("/export");
  for (size_t r = 0; r < acked.size(); ++r) {
    const std::string log = "log" + std::to_string(r);
    const auto data = pattern(kRecord * kRecords, r);
    std::vector<uint8_t> got;
    NfsClient::Opened o;
    nfsstat4 st = c.open(root, log, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, false, o);
    if (st == NFS4_OK) {
      for (;;) {
        auto rd = dfs::testing::do_read(c, o.fh, o.stateid, got.size(), 1 << 20);
        if (rd.status != NFS4_OK) {
          st = rd.status;
          break;
        }
        got.insert(got.end(), rd.data.begin(), rd.data.end());
        if (rd.eof || rd.data.empty()) break;
      }
      c.close(o);
    }
    const std::string where = "round " + std::to_string(r) + ": ";
    t.check(st == NFS4_OK || (st == NFS4ERR_NOENT && acked[r].records == 0),
            where + "reading " + log + ": status " + std::to_string(st));
    t.check(got.size() >= acked[r].records * kRecord,
            where + std::to_string(got.size()) + " bytes, " +
                std::to_string(acked[r].records * kRecord) + " acknowledged");
    t.check(got.size() <= data.size() && std::equal(got.begin(), got.end(), data.begin()),
            where + "bytes that were never sent");
    size_t missing = 0;
    for (size_t n = 0; n < acked[r].names; ++n) {
      NfsClient::Opened no;
      if (c.open(root, log + "_" + std::to_string(n), OPEN4_SHARE_ACCESS_READ,
                 OPEN4_SHARE_DENY_NONE, false, no) == NFS4_OK) {
        c.close(no);
      } else {
        ++missing;
      }
    }
    t.check(missing == 0, where + std::to_string(missing) + " acknowledged names missing");
    std::printf("round %zu: %zu records (%zu acknowledged), %zu names acknowledged\n", r,
                got.size() / kRecord, acked[r].records, acked[r].names);
  }
}

int run_test(const Options& o) {
  const std::string built = run("bash " + o.image_script + " " + o.cache + " " + o.dfs);
  const std::string last = built.substr(built.rfind('\n', built.size() - 2) + 1);
  const std::string kernel = last.substr(0, last.find(' '));
  std::string initrd = last.substr(last.find(' ') + 1);
  while (!initrd.empty() && initrd.back() == '\n')
    initrd.pop_back();

  std::string tmpl = std::filesystem::temp_directory_path() / "dfs-powercut.XXXXXX";
  const std::string dir = ::mkdtemp(tmpl.data());
  const std::string disk = dir + "/disk.img";
  run("truncate -s 1G " + disk + " && mkfs.ext4 -q -F " + disk);
  std::printf("work directory %s (guest console: console-N.log)\n", dir.c_str());

  Tally t;
  std::vector<Acked> acked;
  std::mt19937 rng(std::random_device{}());
  for (int round = 0; round <= o.rounds; ++round) {
    const uint16_t port = free_port();
    Vm vm(kernel, initrd, disk, dir + "/console-" + std::to_string(round) + ".log");
    vm.boot(port);
    auto c = connect(port, "powercut-" + std::to_string(round));
    verify(*c, acked, t);
    if (round == o.rounds) break;  // the last boot only checks

    acked.emplace_back();
    std::mutex mu;
    std::atomic<bool> stop{false};
    const size_t cut_after = 5 + rng() % 60;
    std::thread writer([&] {
      try {
        write_round(*c, round, stop, mu, acked[round]);
      } catch (const std::exception&) {
        // The power went mid-call: what was acknowledged before is what counts.
      }
    });
    const auto deadline = Clock::now() + std::chrono::minutes(5);
    bool reached = false;
    while (Clock::now() < deadline) {
      {
        std::lock_guard lock(mu);
        if (acked[round].records >= cut_after) {
          reached = true;
          break;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    t.check(reached, "round " + std::to_string(round) + ": the writer stalled");
    vm.kill();  // the power cut
    stop = true;
    writer.join();
    std::printf("round %d: power cut after %zu acknowledged records\n", round,
                acked[round].records);
    std::fflush(stdout);
  }
  if (t.failed == 0 && !o.keep) std::filesystem::remove_all(dir);
  std::printf("%d passed, %d failed\n", t.passed, t.failed);
  return t.failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  const char* home = std::getenv("HOME");
  o.cache = std::string(home ? home : "/tmp") + "/.cache/dfs-powercut";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--image-script") {
      o.image_script = value();
    } else if (a == "--dfs") {
      o.dfs = value();
    } else if (a == "--cache") {
      o.cache = value();
    } else if (a == "--rounds") {
      o.rounds = std::max(1, std::atoi(value().c_str()));
    } else if (a == "--keep") {
      o.keep = true;
    } else {
      std::fprintf(stderr, "dfs_powercut: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (o.image_script.empty() || o.dfs.empty()) {
    std::fprintf(stderr,
                 "usage: dfs_powercut --image-script build_image.sh --dfs DFS [--rounds N] "
                 "[--cache DIR] [--keep]\n");
    return 2;
  }
  try {
    return run_test(o);
  } catch (const std::exception& e) {
    std::printf("FAIL: %s\n0 passed, 1 failed\n", e.what());
    return 1;
  }
}
