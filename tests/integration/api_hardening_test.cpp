// The REST control plane against hostile clients, over HTTP against a running dfs: request
// size and time limits, token revocation, login throttling per address, user enumeration by
// timing, share path validation, and HTTPS (docs/api.md, "Limits").

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "api_fixture.h"
#include "raw_http.h"

namespace dfs::testing {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string request(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& extra_headers = "") {
  return method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         "Content-Type: application/json\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

class ApiHardeningTest : public ApiServerTest {
 protected:
  // A login from another loopback address; the HTTP status (0: no reply).
  int login_from(const std::string& from, const std::string& user, const std::string& pw) {
    RawHttp c(daemon().api_port(), from);
    if (!c.ok()) return 0;
    c.send_all(
        request("POST", "/api/v1/auth/login", json{{"username", user}, {"password", pw}}.dump()));
    return c.read_reply(milliseconds(10000)).status;
  }
  int me(const std::string& token) {
    auto r = http().Get("/api/v1/auth/me", auth(token));
    return r ? r->status : 0;
  }
  int refresh(const std::string& refresh_token) {
    auto r = http().Post("/api/v1/auth/refresh", json{{"refresh_token", refresh_token}}.dump(),
                         "application/json");
    return r ? r->status : 0;
  }
  void make_user(const std::string& name, const std::string& role) {
    json u = {{"username", name}, {"password", "password-" + name}, {"role", role}};
    auto r = post("/api/v1/users", u, admin_token_);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
  }
  uint64_t password_checks() {
    auto r = get("/api/v1/auth/stats", admin_token_);
    if (!r || r->status != 200) return ~uint64_t{0};
    return json::parse(r->body)["password_checks"];
  }
  // Restarts dfs with the production password cost (the fixture's start() uses "minimal").
  void restart_with_interactive_cost() {
    password_cost_ = "interactive";
    start({});
  }
};

// ---- 1. request size and time limits ----

TEST_F(ApiHardeningTest, HugeBodyIsRefusedBeforeItIsRead) {
  const size_t before = rss_bytes();
  RawHttp c(daemon().api_port());
  ASSERT_TRUE(c.ok());
  const size_t total = size_t{200} << 20;
  ASSERT_TRUE(
      c.send_all("POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Content-Type: application/json\r\nContent-Length: " +
                 std::to_string(total) + "\r\n\r\n"));
  // The body goes on while the reply is awaited, as a client pushing 200 MB would.
  std::atomic<bool> stop{false};
  std::thread sender([&] {
    const std::string chunk(1 << 20, 'a');
    for (size_t sent = 0; sent < total && !stop; sent += chunk.size()) {
      if (::send(c.fd(), chunk.data(), chunk.size(), MSG_NOSIGNAL) <= 0) break;
    }
  });
  const auto start = Clock::now();
  auto reply = c.read_reply(milliseconds(2000));
  const auto took = Clock::now() - start;
  stop = true;
  ::shutdown(c.fd(), SHUT_WR);
  sender.join();
  EXPECT_EQ(reply.status, 413) << reply.head;
  EXPECT_NE(reply.head.find("application/problem+json"), std::string::npos);
  EXPECT_LT(took, milliseconds(2000));
  const size_t after = rss_bytes();
  EXPECT_LT(after, before + (size_t{50} << 20)) << "RSS grew from " << before << " to " << after;
  // The server still answers.
  auto r = http().Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(ApiHardeningTest, BodiesOfNoStatedLengthOrCompressedAreRefused) {
  {
    RawHttp c(daemon().api_port());
    c.send_all(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
        "\r\n5\r\nhello\r\n0\r\n\r\n");
    EXPECT_EQ(c.read_reply(milliseconds(2000)).status, 411);
  }
  {
    RawHttp c(daemon().api_port());
    c.send_all(request("POST", "/api/v1/auth/login", "x", "Content-Encoding: gzip\r\n"));
    EXPECT_EQ(c.read_reply(milliseconds(2000)).status, 415);
  }
  {
    RawHttp c(daemon().api_port());
    c.send_all("POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    EXPECT_EQ(c.read_reply(milliseconds(2000)).status, 411);
  }
}

TEST_F(ApiHardeningTest, EndlessRequestHeadIsCutOff) {
  const size_t before = rss_bytes();
  RawHttp c(daemon().api_port());
  ASSERT_TRUE(c.ok());
  c.send_all("GET /health HTTP/1.1\r\nX-Long: ");
  // 8 MB of one header line that never ends: the server stops reading and closes.
  const std::string chunk(64 * 1024, 'a');
  bool refused = false;
  for (int i = 0; i < 128 && !refused; ++i)
    refused = !c.send_all(chunk);
  EXPECT_TRUE(refused || c.closed_within(milliseconds(2000)));
  EXPECT_LT(rss_bytes(), before + (size_t{50} << 20));
  auto r = http().Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(ApiHardeningTest, SlowClientsDoNotStallTheApi) {
  // At least as many trickling connections as cpp-httplib's stock pool had threads.
  const size_t n = std::clamp<size_t>(std::thread::hardware_concurrency(), 8, 16);
  std::vector<std::unique_ptr<RawHttp>> slow;
  for (size_t i = 0; i < n; ++i) {
    slow.push_back(std::make_unique<RawHttp>(daemon().api_port()));
    ASSERT_TRUE(slow.back()->ok());
    ASSERT_TRUE(slow.back()->send_all("GET /health HTTP/1.1\r\nX-Slow: "));
  }
  // One more byte on each, every second, as long as the test runs.
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread trickle([&] {
    std::unique_lock lock(mu);
    while (!cv.wait_for(lock, std::chrono::seconds(1), [&] { return done; })) {
      for (auto& s : slow)
        s->send_all("a");
    }
  });
  const auto start = Clock::now();
  httplib::Client c("127.0.0.1", daemon().api_port());
  c.set_connection_timeout(2);
  c.set_read_timeout(2);
  auto r = c.Get("/health");
  const auto took = Clock::now() - start;
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_all();
  trickle.join();
  ASSERT_TRUE(r) << "no answer while " << n << " connections trickle";
  EXPECT_EQ(r->status, 200);
  EXPECT_LT(took, milliseconds(2000));
}

// ---- 2. token revocation ----

TEST_F(ApiHardeningTest, PasswordChangeRevokesTokens) {
  make_user("bob", "user");
  json t = login_pair("bob", "password-bob");
  ASSERT_FALSE(t.is_null());
  ASSERT_EQ(me(t["access_token"]), 200);
  // By the user itself.
  ASSERT_EQ(put("/api/v1/users/bob/password", {{"password", "new-password-1"}},
                t["access_token"].get<std::string>())
                ->status,
            204);
  EXPECT_EQ(me(t["access_token"]), 401);
  EXPECT_EQ(refresh(t["refresh_token"]), 401);
  // By an admin.
  json t2 = login_pair("bob", "new-password-1");
  ASSERT_FALSE(t2.is_null());
  ASSERT_EQ(
      put("/api/v1/users/bob/password", {{"password", "new-password-2"}}, admin_token_)->status,
      204);
  EXPECT_EQ(me(t2["access_token"]), 401);
  EXPECT_EQ(refresh(t2["refresh_token"]), 401);
  EXPECT_EQ(me(login("bob", "new-password-2")), 200);
}

TEST_F(ApiHardeningTest, TokensOfADeletedUserStayDeadWhenTheNameComesBack) {
  make_user("tmp", "operator");
  json t = login_pair("tmp", "password-tmp");
  ASSERT_FALSE(t.is_null());
  ASSERT_EQ(del("/api/v1/users/tmp", admin_token_)->status, 204);
  make_user("tmp", "operator");
  EXPECT_EQ(me(t["access_token"]), 401);
  EXPECT_EQ(refresh(t["refresh_token"]), 401);
  EXPECT_EQ(me(login("tmp", "password-tmp")), 200);
}

TEST_F(ApiHardeningTest, RoleChangeRevokesTokens) {
  make_user("olga", "operator");
  json t = login_pair("olga", "password-olga");
  ASSERT_FALSE(t.is_null());
  auto r = patch("/api/v1/users/olga", {{"role", "user"}}, admin_token_);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["role"], "user");
  EXPECT_EQ(me(t["access_token"]), 401);
  EXPECT_EQ(refresh(t["refresh_token"]), 401);
  std::string fresh = login("olga", "password-olga");
  ASSERT_EQ(me(fresh), 200);
  EXPECT_EQ(get("/api/v1/users", fresh)->status, 403);
  // The same role again, or only the uid: the tokens stay.
  EXPECT_EQ(patch("/api/v1/users/olga", {{"role", "user"}, {"uid", 1200}}, admin_token_)->status,
            200);
  EXPECT_EQ(me(fresh), 200);
  // Checked like creation; the last admin keeps its role.
  EXPECT_EQ(patch("/api/v1/users/olga", {{"role", "root"}}, admin_token_)->status, 400);
  EXPECT_EQ(patch("/api/v1/users/olga", {{"shell", "sh"}}, admin_token_)->status, 400);
  EXPECT_EQ(patch("/api/v1/users/nobody", {{"role", "user"}}, admin_token_)->status, 404);
  EXPECT_EQ(patch("/api/v1/users/olga", {{"role", "user"}}, fresh)->status, 403);
  EXPECT_EQ(patch("/api/v1/users/admin", {{"role", "operator"}}, admin_token_)->status, 409);
  EXPECT_EQ(me(admin_token_), 200);
}

TEST_F(ApiHardeningTest, LogoutRevokesTokens) {
  make_user("lena", "user");
  json t = login_pair("lena", "password-lena");
  ASSERT_FALSE(t.is_null());
  auto r = http().Post("/api/v1/auth/logout", auth(t["access_token"]), "", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(me(t["access_token"]), 401);
  EXPECT_EQ(refresh(t["refresh_token"]), 401);
  // With the refresh token alone (the access token may have expired).
  json t2 = login_pair("lena", "password-lena");
  ASSERT_FALSE(t2.is_null());
  r = http().Post("/api/v1/auth/logout", json{{"refresh_token", t2["refresh_token"]}}.dump(),
                  "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(me(t2["access_token"]), 401);
  EXPECT_EQ(refresh(t2["refresh_token"]), 401);
  // A revoked token cannot log out again; nothing at all is refused.
  EXPECT_EQ(
      http().Post("/api/v1/auth/logout", auth(t["access_token"]), "", "application/json")->status,
      401);
  EXPECT_EQ(http().Post("/api/v1/auth/logout", "", "application/json")->status, 401);
  EXPECT_EQ(me(admin_token_), 200);  // other users are not affected
}

// ---- 3. login throttling ----

TEST_F(ApiHardeningTest, FailuresFromOneAddressDoNotLockOutAnother) {
  int throttled = 0;
  for (int i = 0; i < 12; ++i) {
    int status = login_from("127.0.0.2", "admin", "wrong-" + std::to_string(i));
    ASSERT_TRUE(status == 401 || status == 429) << status;
    throttled += status == 429;
  }
  EXPECT_GT(throttled, 0);
  // That address waits, even with the right password...
  EXPECT_EQ(login_from("127.0.0.2", "admin", admin_pw_), 429);
  // ...but the admin elsewhere logs in at once.
  EXPECT_EQ(login_from("127.0.0.1", "admin", admin_pw_), 200);
  EXPECT_EQ(login_from("127.0.0.3", "admin", admin_pw_), 200);
}

TEST_F(ApiHardeningTest, ParallelAttemptsAreCountedBeforeThePasswordCheck) {
  make_user("bob", "user");
  const uint64_t before = password_checks();
  ASSERT_NE(before, ~uint64_t{0});
  std::atomic<int> unauthorized{0}, throttled{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 40; ++i) {
    threads.emplace_back([&, i] {
      int status = login_from("127.0.0.4", "bob", "wrong-" + std::to_string(i));
      // 503: more connections from one address than it may have at once.
      ++(status == 401 ? unauthorized : status == 429 || status == 503 ? throttled : other);
    });
  }
  for (auto& t : threads)
    t.join();
  const uint64_t checks = password_checks() - before;
  EXPECT_EQ(other, 0);
  EXPECT_LE(checks, 5u);
  EXPECT_LE(unauthorized, 5);
  EXPECT_GE(unauthorized, 1);
  EXPECT_EQ(unauthorized + throttled, 40);
}

// ---- 4. user enumeration by timing ----

TEST_F(ApiHardeningTest, UnknownUsersCostAsMuchAsKnownOnes) {
  restart_with_interactive_cost();
  admin_token_ = login("admin", admin_pw_);
  ASSERT_FALSE(admin_token_.empty());
  make_user("kate", "user");  // hashed at the interactive cost
  auto time_login = [&](const std::string& user) {
    const auto start = Clock::now();
    int status = login_from("127.0.0.5", user, "not-the-password");
    EXPECT_EQ(status, 401);
    return Clock::now() - start;
  };
  std::vector<Clock::duration> known, unknown;
  for (int i = 0; i < 3; ++i) {
    known.push_back(time_login("kate"));
    unknown.push_back(time_login("ghost" + std::to_string(i)));
  }
  std::sort(known.begin(), known.end());
  std::sort(unknown.begin(), unknown.end());
  auto ms = [](Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count() / 1000.0;
  };
  EXPECT_GE(ms(unknown[1]), 0.5 * ms(known[1]))
      << "median: unknown user " << ms(unknown[1]) << " ms, known user " << ms(known[1]) << " ms";
}

// ---- 5. share paths ----

TEST_F(ApiHardeningTest, SharePathsAreValidated) {
  auto nfs = client();
  auto refused = [&](const std::string& path, int status) {
    auto r = post("/api/v1/shares", {{"name", "bad"}, {"path", path}}, admin_token_);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << "path " << json(path).dump() << ": " << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/problem+json");
    if (r->status == status) {
      EXPECT_EQ(json::parse(r->body)["field"], "path");
    }
  };
  refused(std::string("/export\0evil", 12), 400);
  refused("/", 400);
  refused("relative", 400);
  refused("", 400);
  refused("/a/../export", 400);
  refused("/a/./b", 400);
  refused("/..", 400);
  refused("//x", 400);
  refused("/x/", 400);
  refused("/x\ny", 400);
  refused("/x\ty", 400);
  refused("/x\x7fy", 400);
  refused("/" + std::string(256, 'a'), 400);
  // Shares do not nest, either way.
  refused("/export", 409);
  refused("/export/inner", 409);
  ASSERT_EQ(
      post("/api/v1/shares", {{"name", "inner"}, {"path", "/deep/inner"}}, admin_token_)->status,
      201);
  refused("/deep", 409);
  refused("/deep/inner/more", 409);
  // A shared prefix is not nesting.
  EXPECT_EQ(post("/api/v1/shares", {{"name", "deeper"}, {"path", "/deeper"}}, admin_token_)->status,
            201);
  EXPECT_EQ(post("/api/v1/shares", {{"name", "utf"}, {"path", "/d\xc3\xa9j\xc3\xa0"}}, admin_token_)
                ->status,
            201);
  // The configured export is untouched.
  auto list = json::parse(get("/api/v1/shares", admin_token_)->body);
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[0]["path"], "/export");
  EXPECT_NO_THROW(nfs->lookup_path("/export"));
  EXPECT_NO_THROW(nfs->lookup_path("/deep/inner"));
}

// A problem document quoting what the request named (a user, a setting) once threw while
// being serialised when those bytes were not UTF-8, and the API answered 500.
TEST_F(ApiHardeningTest, NamesThatAreNotUtf8GetTheirOwnAnswerNot500) {
  auto user = get("/api/v1/users/%EE%FF", admin_token_);
  ASSERT_TRUE(user);
  EXPECT_EQ(user->status, 404) << user->body;
  EXPECT_EQ(user->get_header_value("Content-Type"), "application/problem+json");
  EXPECT_NO_THROW(json::parse(user->body));
  auto reset =
      post("/api/v1/adapters/nfs/settings/reset?setting=%EE", json::object(), admin_token_);
  ASSERT_TRUE(reset);
  EXPECT_GE(reset->status, 400) << reset->body;
  EXPECT_LT(reset->status, 500) << reset->body;
  EXPECT_NO_THROW(json::parse(reset->body));
}

// ---- 6. HTTPS ----

TEST_F(ApiHardeningTest, ApiServesHttpsWhenACertificateIsConfigured) {
  const std::string cert = data_dir_ + "/api.crt", key = data_dir_ + "/api.key";
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=127.0.0.1 -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  server::Config config;
  config.api.tls_cert = cert;
  config.api.tls_key = key;
  start(config);
  httplib::SSLClient tls("127.0.0.1", daemon().api_port());
  tls.enable_server_certificate_verification(false);
  tls.set_connection_timeout(5);
  tls.set_read_timeout(5);
  auto r = tls.Get("/health");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  r = tls.Post("/api/v1/auth/login", json{{"username", "admin"}, {"password", admin_pw_}}.dump(),
               "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  std::string token = json::parse(r->body)["access_token"];
  r = tls.Get("/api/v1/auth/me", auth(token));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  // The limits hold over TLS too.
  r = tls.Post("/api/v1/auth/login", std::string((1 << 20) + 1, 'a'), "application/json");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 413);
  // Plain HTTP gets no answer there.
  httplib::Client plain("127.0.0.1", daemon().api_port());
  plain.set_connection_timeout(2);
  plain.set_read_timeout(2);
  auto p = plain.Get("/health");
  EXPECT_FALSE(p && p->status == 200);
  // One file without the other, or unreadable files, stop the start.
  config.api.tls_key.clear();
  EXPECT_THROW(start(config), std::runtime_error);
  config.api.tls_key = data_dir_ + "/missing.key";
  EXPECT_THROW(start(config), std::runtime_error);
}

}  // namespace
}  // namespace dfs::testing
