#include "rest_client.h"

#include <stdlib.h>

#include <cctype>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

namespace dfs::fuzz {
namespace {

using nlohmann::json;

// The daemons started, stopped when the process exits and their data directories removed.
// An atexit handler runs before the destructors of statics made earlier (the loggers), so no
// daemon thread is left to log into a logger that is gone.
std::mutex started_mu;
std::vector<std::pair<server::Daemon*, std::string>> started;

void stop_all() {
  std::lock_guard lock(started_mu);
  for (auto& [daemon, dir] : started) {
    daemon->stop();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  started.clear();
}

}  // namespace

RestApi::RestApi() {
  char tmpl[] = "/tmp/dfs-fuzz-rest.XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  data_dir_ = tmpl;
  server::Config config;
  config.listen_addresses = {"127.0.0.1"};
  config.port = 0;
  config.reactor_threads = 1;
  config.rpcbind_register = false;
  config.data_dir = data_dir_;
  config.api.port = 0;
  config.metrics.enabled = false;
  config.password_cost = "minimal";
  daemon_ = std::make_unique<server::Daemon>(config);
  daemon_->start();
  {
    std::lock_guard lock(started_mu);
    if (started.empty()) std::atexit(stop_all);
    started.emplace_back(daemon_.get(), data_dir_);
  }
  http_ = std::make_unique<httplib::Client>("127.0.0.1", daemon_->api_port());
  // A connection per request. On a kept-alive one each small response stalls ~40 ms: the
  // API writes a response's head and body with two send()s and leaves Nagle on, and the
  // client's delayed ACK holds the second back; a fresh connection acknowledges at once.
  http_->set_keep_alive(false);
  http_->set_tcp_nodelay(true);
  http_->set_connection_timeout(5);
  http_->set_read_timeout(15);
  login();
  const json user = {
      {"username", kFuzzUser}, {"password", kFuzzUserPassword}, {"role", "user"}, {"uid", 1000}};
  if (send("POST", "/api/v1/users", user.dump(), As::kAdmin).status != 201) {
    throw std::runtime_error("cannot create " + std::string(kFuzzUser));
  }
}

void RestApi::login() {
  const json creds = {{"username", "admin"}, {"password", daemon_->generated_admin_password()}};
  Reply r = exchange("POST", "/api/v1/auth/login", creds.dump(), {});
  if (r.status != 200) throw std::runtime_error("admin login failed: " + r.body);
  const json t = json::parse(r.body);
  access_ = t["access_token"];
  refresh_ = t["refresh_token"];
}

RestApi::Reply RestApi::exchange(const std::string& method, const std::string& path,
                                 const std::string& body, const httplib::Headers& headers) {
  // A keep-alive connection the server closed meanwhile fails once; a fresh one must not.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto request = [&]() -> httplib::Result {
      if (method == "GET") return http_->Get(path, headers);
      if (method == "DELETE") return http_->Delete(path, headers);
      if (method == "POST") return http_->Post(path, headers, body, "application/json");
      if (method == "PUT") return http_->Put(path, headers, body, "application/json");
      return http_->Patch(path, headers, body, "application/json");
    };
    httplib::Result res = request();
    if (res) return {true, res->status, res->body, res->get_header_value("Content-Type")};
    http_->stop();
  }
  return {};
}

RestApi::Reply RestApi::send(const std::string& method, const std::string& path,
                             const std::string& body, As as) {
  if (as == As::kNobody) return exchange(method, path, body, {});
  Reply r = exchange(method, path, body, {{"Authorization", "Bearer " + access_}});
  if (r.status != 401) return r;
  // The access token expired (a long run): refresh it, or log in again.
  Reply t = exchange("POST", "/api/v1/auth/refresh", json{{"refresh_token", refresh_}}.dump(), {});
  if (t.status == 200) {
    const json j = json::parse(t.body);
    access_ = j["access_token"];
    refresh_ = j["refresh_token"];
  } else {
    login();
  }
  return exchange(method, path, body, {{"Authorization", "Bearer " + access_}});
}

RestApi::Reply RestApi::send_with_token(const std::string& method, const std::string& path,
                                        const std::string& token) {
  return exchange(method, path, "", {{"Authorization", "Bearer " + token}});
}

std::string path_segment(const std::string& bytes) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace dfs::fuzz
