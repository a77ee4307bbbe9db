#pragma once
// Test helpers for hostile clients: this process's resident memory (the tests run dfs in it),
// and one HTTP/1.1 connection over a plain socket, for requests no HTTP library would send.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

namespace dfs::testing {

// Resident memory of this process (dfs runs in it), in bytes.
inline size_t rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

// One HTTP/1.1 connection over a plain socket, from a chosen loopback address: the server
// tells clients apart by address, and 127.0.0.0/8 is all local.
class RawHttp {
 public:
  struct Reply {
    int status = 0;  // 0: no complete reply
    std::string head;
    std::string body;
  };

  RawHttp(uint16_t port, const std::string& from = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    ::inet_pton(AF_INET, from.c_str(), &src.sin_addr);
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src) == 0 &&
          ::connect(fd_, reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 0;
  }
  ~RawHttp() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawHttp(const RawHttp&) = delete;
  RawHttp& operator=(const RawHttp&) = delete;

  bool ok() const { return ok_; }
  int fd() const { return fd_; }

  bool send_all(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one reply (head, then a Content-Length body) within `timeout`.
  Reply read_reply(std::chrono::milliseconds timeout) {
    Reply r;
    std::string in;
    const auto until = std::chrono::steady_clock::now() + timeout;
    size_t head_end = std::string::npos, need = 0;
    for (;;) {
      if (head_end == std::string::npos) {
        head_end = in.find("\r\n\r\n");
        if (head_end != std::string::npos) {
          r.head = in.substr(0, head_end + 4);
          need = head_end + 4 + content_length(r.head);
        }
      }
      if (head_end != std::string::npos && in.size() >= need) break;
      if (!wait_readable(until)) return Reply{};
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return Reply{};
      in.append(buf, static_cast<size_t>(n));
    }
    r.body = in.substr(head_end + 4, need - head_end - 4);
    if (r.head.rfind("HTTP/1.1 ", 0) == 0) r.status = std::atoi(r.head.c_str() + 9);
    return r;
  }

  // Whether the server closes the connection (end of stream or reset) within `timeout`,
  // discarding whatever it sends first.
  bool closed_within(std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (!wait_readable(until)) return false;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
    }
  }

 private:
  static size_t content_length(const std::string& head) {
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    auto p = lower.find("\r\ncontent-length:");
    return p == std::string::npos ? 0 : std::stoull(lower.substr(p + 17));
  }
  bool wait_readable(std::chrono::steady_clock::time_point until) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    until - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(left)) > 0;
  }

  int fd_ = -1;
  bool ok_ = false;
};

}  // namespace dfs::testing
