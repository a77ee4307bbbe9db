#pragma once
// A real dfs (ServerTest) and an HTTP client for its REST API, logged in as the generated
// admin: what the API tests share.

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "server_fixture.h"

namespace dfs::testing {

class ApiServerTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    admin_pw_ = daemon().generated_admin_password();
    admin_token_ = login("admin", admin_pw_);
    ASSERT_FALSE(admin_token_.empty());
  }
  httplib::Client http() {
    httplib::Client c("127.0.0.1", daemon().api_port());
    c.set_connection_timeout(5);
    c.set_read_timeout(10);
    return c;
  }
  static httplib::Headers auth(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }
  // The whole login reply (tokens), or null on failure.
  nlohmann::json login_pair(const std::string& user, const std::string& pw) {
    auto r = http().Post("/api/v1/auth/login",
                         nlohmann::json{{"username", user}, {"password", pw}}.dump(),
                         "application/json");
    if (!r || r->status != 200) return nullptr;
    return nlohmann::json::parse(r->body);
  }
  std::string login(const std::string& user, const std::string& pw) {
    auto j = login_pair(user, pw);
    return j.is_null() ? "" : j["access_token"].get<std::string>();
  }
  httplib::Result get(const std::string& path, const std::string& token) {
    return http().Get(path.c_str(), auth(token));
  }
  httplib::Result post(const std::string& path, const nlohmann::json& body,
                       const std::string& token) {
    return http().Post(path.c_str(), auth(token), body.dump(), "application/json");
  }
  httplib::Result patch(const std::string& path, const nlohmann::json& body,
                        const std::string& token) {
    return http().Patch(path.c_str(), auth(token), body.dump(), "application/json");
  }
  httplib::Result put(const std::string& path, const nlohmann::json& body,
                      const std::string& token) {
    return http().Put(path.c_str(), auth(token), body.dump(), "application/json");
  }
  httplib::Result del(const std::string& path, const std::string& token) {
    return http().Delete(path.c_str(), auth(token));
  }
  // The status and parsed body of a request as `token` (the admin's when empty); a body that
  // is not JSON parses as discarded, no reply gives status 0.
  std::pair<int, nlohmann::json> send(const std::string& method, const std::string& path,
                                      const nlohmann::json& body = nullptr,
                                      const std::string& token = "") {
    const std::string& t = token.empty() ? admin_token_ : token;
    auto r = [&] {
      if (method == "POST") return post(path, body, t);
      if (method == "PATCH") return patch(path, body, t);
      if (method == "PUT") return put(path, body, t);
      if (method == "DELETE") return del(path, t);
      return get(path, t);
    }();
    if (!r) return {0, nullptr};
    return {r->status, nlohmann::json::parse(r->body, nullptr, false)};
  }

  std::string admin_pw_;
  std::string admin_token_;
};

}  // namespace dfs::testing
