// The driver a fuzz target is linked with in the normal build (no libFuzzer): runs the empty
// input, every file of the corpus directories (or single files) it is given, then mutations
// of them (mutator.h) for --seconds. The suite runs each target this way, under the
// sanitizers. An input that makes the process die (a sanitizer report, a failed FUZZ_CHECK)
// is written to ./fuzz-crash-<pid> first, so it can be run again alone:
//
//   fuzz_compound_args --seconds=5 tests/fuzz/corpus/compound_args
//   fuzz_compound_args fuzz-crash-1234

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "mutator.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#include <sanitizer/common_interface_defs.h>
#define DFS_HAVE_SANITIZER_DEATH_CALLBACK 1
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

constexpr size_t kMaxMutatedSize = 1 << 20;

// The input being run, for the crash writer (read from a signal handler).
const uint8_t* volatile g_data = nullptr;
volatile size_t g_size = 0;
volatile sig_atomic_t g_written = 0;

// Async-signal-safe: only open, write and close.
void write_crash_input() {
  if (g_written) return;
  g_written = 1;
  char name[64] = "fuzz-crash-";
  size_t len = std::strlen(name);
  char digits[24];
  size_t n = 0;
  for (pid_t pid = getpid(); pid > 0 && n < sizeof digits; pid /= 10)
    digits[n++] = static_cast<char>('0' + pid % 10);
  while (n > 0)
    name[len++] = digits[--n];
  name[len] = '\0';
  int fd = ::open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    size_t done = 0;
    while (done < g_size) {
      ssize_t w = ::write(fd, g_data + done, g_size - done);
      if (w <= 0) break;
      done += static_cast<size_t>(w);
    }
    ::close(fd);
  }
  const char msg[] = "\nfuzz replay: the input that failed is in ./";
  [[maybe_unused]] auto r1 = ::write(2, msg, sizeof msg - 1);
  [[maybe_unused]] auto r2 = ::write(2, name, len);
  [[maybe_unused]] auto r3 = ::write(2, "\n", 1);
}

void on_fatal_signal(int sig) {
  write_crash_input();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void run(const std::vector<uint8_t>& input) {
  g_data = input.data();
  g_size = input.size();
  LLVMFuzzerTestOneInput(input.data(), input.size());
}

bool read_file(const std::filesystem::path& p, std::vector<uint8_t>& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 0;
  uint64_t seed = 1;
  std::vector<std::filesystem::path> paths;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--seconds=", 0) == 0) {
      seconds = std::stod(a.substr(10));
    } else if (a.rfind("--seed=", 0) == 0) {
      seed = std::stoull(a.substr(7));
    } else {
      paths.emplace_back(a);
    }
  }
  if (paths.empty()) {
    std::fprintf(stderr, "usage: %s [--seconds=N] [--seed=N] CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
#ifdef DFS_HAVE_SANITIZER_DEATH_CALLBACK
  __sanitizer_set_death_callback(write_crash_input);
#endif
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL})
    ::signal(sig, on_fatal_signal);

  // Files in name order, so a run is the same every time.
  std::vector<std::filesystem::path> files;
  for (const auto& p : paths) {
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::directory_iterator(p)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else {
      files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());

  std::vector<std::vector<uint8_t>> corpus;
  run({});
  for (const auto& f : files) {
    std::vector<uint8_t> bytes;
    if (!read_file(f, bytes)) {
      std::fprintf(stderr, "cannot read %s\n", f.c_str());
      return 2;
    }
    run(bytes);
    corpus.push_back(std::move(bytes));
  }

  size_t mutated = 0;
  if (seconds > 0 && !corpus.empty()) {
    dfs::fuzz::Mutator mutator(seed);
    std::mt19937_64 pick(seed);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      const auto& base = corpus[pick() % corpus.size()];
      const auto& other = corpus[pick() % corpus.size()];
      run(mutator.mutate(base, other, kMaxMutatedSize));
      ++mutated;
    }
  }
  std::printf("fuzz replay: %zu corpus inputs, %zu mutated inputs in %.1f s (seed %llu)\n",
              corpus.size(), mutated, seconds, static_cast<unsigned long long>(seed));
  return 0;
}
