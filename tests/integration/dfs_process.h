#pragma once
// dfs as a child process (the built binary, DFS_BINARY), for tests that kill it the hard way
// (SIGKILL) and start it again on the same data directory and port.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "free_port.h"

namespace dfs::testing {

class DfsProcess {
 public:
  // `config_yaml` is written to <dir>/dfs.yaml; dfs logs to <dir>/dfs.log (appended).
  DfsProcess(std::string dir, std::string config_yaml)
      : dir_(std::move(dir)), config_(dir_ + "/dfs.yaml") {
    std::ofstream(config_) << config_yaml;
  }
  ~DfsProcess() { kill_hard(); }
  DfsProcess(const DfsProcess&) = delete;
  DfsProcess& operator=(const DfsProcess&) = delete;

  static uint16_t free_port() { return testing::free_port(); }

  // Starts dfs and waits (30 s at most) until `port` accepts connections.
  void start(uint16_t port) {
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      // Dies with the test process, even one that aborts (a sanitizer report) or is killed.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      int log = ::open((dir_ + "/dfs.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(log, 1);
      ::dup2(log, 2);
      ::execl(DFS_BINARY, "dfs", "--config", config_.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (connectable(port)) return;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("dfs exited at start; see " + dir_ + "/dfs.log");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("dfs did not listen within 30 s; see " + dir_ + "/dfs.log");
  }
  // SIGKILL: no destructor, no flush, no last close.
  void kill_hard() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::string log() const {
    std::ifstream in(dir_ + "/dfs.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  static bool connectable(uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
  }

  std::string dir_;
  std::string config_;
  pid_t pid_ = -1;
};

}  // namespace dfs::testing
