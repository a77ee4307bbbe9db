#pragma once
// The REST API as a fuzz target meets it: a real dfs (server::Daemon, as main() runs it) in
// this process, with its API on an ephemeral loopback port, and an HTTP client holding an
// admin's tokens. Also a user "fuzzuser" (uid 1000, password kFuzzUserPassword) that inputs
// may change without touching the admin the client acts as.

#include <memory>
#include <string>

#include <httplib.h>

#include "server/daemon.h"

namespace dfs::fuzz {

class RestApi {
 public:
  static constexpr const char* kFuzzUser = "fuzzuser";
  static constexpr const char* kFuzzUserPassword = "fuzzuser-password";

  // Starts the daemon (data in a fresh /tmp directory) and logs in; throws on failure.
  RestApi();

  struct Reply {
    bool answered = false;  // false: no HTTP response at all
    int status = 0;
    std::string body;
    std::string content_type;
  };
  enum class As { kNobody, kAdmin };
  // One request with a JSON body (empty: none). As the admin, an expired access token is
  // refreshed and the request sent again.
  Reply send(const std::string& method, const std::string& path, const std::string& body, As as);
  // The same with "Authorization: Bearer <token>".
  Reply send_with_token(const std::string& method, const std::string& path,
                        const std::string& token);

 private:
  Reply exchange(const std::string& method, const std::string& path, const std::string& body,
                 const httplib::Headers& headers);
  void login();

  std::string data_dir_;
  std::unique_ptr<server::Daemon> daemon_;
  std::unique_ptr<httplib::Client> http_;
  std::string access_;
  std::string refresh_;
};

// `bytes` made safe as one path segment (percent-encoded).
std::string path_segment(const std::string& bytes);

}  // namespace dfs::fuzz
