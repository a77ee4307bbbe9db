// The REST control plane over HTTP against a running dfs: auth, roles, every endpoint's
// success and error paths, settings validation and live effect, persistence across restart.

#include <httplib.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "api_fixture.h"
#include "control/jwt.h"
#include "nfs4/attributes.h"

namespace dfs::testing {
namespace {

using nlohmann::json;

class ApiTest : public ApiServerTest {
 protected:
  void make_user(const std::string& name, const std::string& role,
                 std::optional<uint32_t> uid = {}) {
    json u = {{"username", name}, {"password", "password-" + name}, {"role", role}};
    if (uid) u["uid"] = *uid;
    auto r = post("/api/v1/users", u, admin_token_);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
  }
};

TEST_F(ApiTest, HealthAndReadyNeedNoToken) {
  auto r = http().Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = http().Get("/ready");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["status"], "ready");
}

TEST_F(ApiTest, MissingBadAndExpiredTokensAreRefused) {
  auto r = http().Get("/api/v1/users");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/problem+json");
  r = get("/api/v1/users", "not.a.token");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  // A correctly signed token whose expiry has passed.
  std::ifstream in(data_dir_ + "/jwt.secret");
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  control::JwtSigner signer(secret);
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  // Tokens carry the user's token generation; a real token's claims tell the current one.
  auto dot1 = admin_token_.find('.'), dot2 = admin_token_.rfind('.');
  auto claims = control::base64url_decode(admin_token_.substr(dot1 + 1, dot2 - dot1 - 1));
  ASSERT_TRUE(claims);
  int64_t gen = json::parse(*claims)["gen"];
  std::string expired = signer.sign(
      {{"sub", "admin"}, {"role", "admin"}, {"typ", "access"}, {"gen", gen}, {"exp", now - 5}});
  r = get("/api/v1/users", expired);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  std::string valid = signer.sign(
      {{"sub", "admin"}, {"role", "admin"}, {"typ", "access"}, {"gen", gen}, {"exp", now + 60}});
  r = get("/api/v1/users", valid);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  // Without the generation, or with another, a well-signed token is refused.
  r = get("/api/v1/users",
          signer.sign({{"sub", "admin"}, {"role", "admin"}, {"typ", "access"}, {"exp", now + 60}}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = get("/api/v1/users", signer.sign({{"sub", "admin"},
                                        {"role", "admin"},
                                        {"typ", "access"},
                                        {"gen", gen + 1},
                                        {"exp", now + 60}}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  // A token signed with another secret.
  control::JwtSigner other(std::string(48, 'x'));
  r = get("/api/v1/users",
          other.sign({{"sub", "admin"}, {"role", "admin"}, {"typ", "access"}, {"exp", now + 60}}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

TEST_F(ApiTest, LoginRefreshAndMe) {
  auto r = http().Post("/api/v1/auth/login",
                       json{{"username", "admin"}, {"password", "wrong-password"}}.dump(),
                       "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = http().Post(
      "/api/v1/auth/login",
      json{{"username", "admin"}, {"password", daemon().generated_admin_password()}}.dump(),
      "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  auto body = json::parse(r->body);
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["role"], "admin");
  EXPECT_EQ(body["expires_in"], 900);
  std::string refresh = body["refresh_token"];
  // A refresh token is not an access token, and an access token cannot refresh.
  EXPECT_EQ(get("/api/v1/auth/me", refresh)->status, 401);
  r = http().Post("/api/v1/auth/refresh", json{{"refresh_token", body["access_token"]}}.dump(),
                  "application/json");
  EXPECT_EQ(r->status, 401);
  r = http().Post("/api/v1/auth/refresh", json{{"refresh_token", refresh}}.dump(),
                  "application/json");
  ASSERT_EQ(r->status, 200);
  std::string access2 = json::parse(r->body)["access_token"];
  r = get("/api/v1/auth/me", access2);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["username"], "admin");
  EXPECT_EQ(json::parse(r->body)["role"], "admin");
}

TEST_F(ApiTest, RepeatedFailedLoginsAreThrottled) {
  make_user("bob", "user");
  for (int i = 0; i < 5; ++i) {
    auto r = http().Post("/api/v1/auth/login",
                         json{{"username", "bob"}, {"password", "bad-" + std::to_string(i)}}.dump(),
                         "application/json");
    ASSERT_EQ(r->status, 401);
  }
  // Even the right password is refused while the window lasts.
  auto r = http().Post("/api/v1/auth/login",
                       json{{"username", "bob"}, {"password", "password-bob"}}.dump(),
                       "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_GT(std::stoi(r->get_header_value("Retry-After")), 0);
}

TEST_F(ApiTest, RolesAreEnforced) {
  make_user("olga", "operator");
  make_user("ulrich", "user");
  std::string op = login("olga", "password-olga"), user = login("ulrich", "password-ulrich");
  ASSERT_FALSE(op.empty());
  ASSERT_FALSE(user.empty());
  EXPECT_EQ(get("/api/v1/users", op)->status, 200);
  EXPECT_EQ(get("/api/v1/adapters/nfs/settings", op)->status, 200);
  EXPECT_EQ(post("/api/v1/users", {{"username", "x"}, {"password", "12345678"}}, op)->status, 403);
  EXPECT_EQ(patch("/api/v1/adapters/nfs/settings", {{"lease_time", 60}}, op)->status, 403);
  EXPECT_EQ(get("/api/v1/users", user)->status, 403);
  EXPECT_EQ(get("/api/v1/auth/me", user)->status, 200);
  // A user changes its own password but not another's.
  EXPECT_EQ(put("/api/v1/users/ulrich/password", {{"password", "new-password-1"}}, user)->status,
            204);
  user = login("ulrich", "new-password-1");  // the change revoked the old token
  ASSERT_FALSE(user.empty());
  EXPECT_EQ(put("/api/v1/users/olga/password", {{"password", "new-password-2"}}, user)->status,
            403);
  EXPECT_FALSE(login("ulrich", "new-password-1").empty());
  EXPECT_TRUE(login("ulrich", "password-ulrich").empty());
}

TEST_F(ApiTest, UserEndpoints) {
  make_user("ann", "operator", 1000);
  auto r = post("/api/v1/users", {{"username", "ann"}, {"password", "12345678"}}, admin_token_);
  EXPECT_EQ(r->status, 409);
  r = post("/api/v1/users", {{"username", "Bad Name"}, {"password", "12345678"}}, admin_token_);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(json::parse(r->body)["field"], "username");
  r = post("/api/v1/users", {{"username", "short"}, {"password", "1234"}}, admin_token_);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(json::parse(r->body)["field"], "password");
  r = post("/api/v1/users", {{"username", "r"}, {"password", "12345678"}, {"role", "root"}},
           admin_token_);
  EXPECT_EQ(r->status, 400);
  r = post("/api/v1/users", {{"username", "r"}, {"password", "12345678"}, {"shell", "sh"}},
           admin_token_);
  EXPECT_EQ(r->status, 400);
  r = get("/api/v1/users", admin_token_);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body).size(), 2u);
  r = get("/api/v1/users/ann", admin_token_);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["uid"], 1000);
  EXPECT_EQ(json::parse(r->body)["role"], "operator");
  EXPECT_FALSE(json::parse(r->body).contains("password_hash"));
  EXPECT_EQ(get("/api/v1/users/nobody", admin_token_)->status, 404);
  EXPECT_EQ(put("/api/v1/users/ann/password", {{"password", "x"}}, admin_token_)->status, 400);
  EXPECT_EQ(put("/api/v1/users/zed/password", {{"password", "12345678"}}, admin_token_)->status,
            404);
  EXPECT_EQ(del("/api/v1/users/ann", admin_token_)->status, 204);
  EXPECT_EQ(del("/api/v1/users/ann", admin_token_)->status, 404);
  EXPECT_EQ(del("/api/v1/users/admin", admin_token_)->status, 409);  // the last admin
  // A deleted user's token stops working.
  make_user("tmp", "operator");
  std::string t = login("tmp", "password-tmp");
  EXPECT_EQ(get("/api/v1/users", t)->status, 200);
  EXPECT_EQ(del("/api/v1/users/tmp", admin_token_)->status, 204);
  EXPECT_EQ(get("/api/v1/users", t)->status, 401);
}

TEST_F(ApiTest, SharesAreCreatedListedAndRemovedLive) {
  auto nfs = client();
  auto r =
      post("/api/v1/shares", {{"name", "projects"}, {"path", "/projects"}, {"root_squash", false}},
           admin_token_);
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(json::parse(r->body)["source"], "api");
  // A new mount sees it at once.
  Fh fh = nfs->lookup_path("/projects");
  EXPECT_EQ(nfs->mkdir(fh, "inside"), NFS4_OK);
  r = get("/api/v1/shares", admin_token_);
  ASSERT_EQ(r->status, 200);
  auto list = json::parse(r->body);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["source"], "config");
  EXPECT_EQ(list[1]["name"], "projects");
  EXPECT_EQ(get("/api/v1/shares/projects", admin_token_)->status, 200);
  EXPECT_EQ(get("/api/v1/shares/none", admin_token_)->status, 404);
  EXPECT_EQ(post("/api/v1/shares", {{"name", "projects"}, {"path", "/p2"}}, admin_token_)->status,
            409);
  EXPECT_EQ(post("/api/v1/shares", {{"name", "p3"}, {"path", "/projects"}}, admin_token_)->status,
            409);
  EXPECT_EQ(post("/api/v1/shares", {{"name", "p4"}, {"path", "relative"}}, admin_token_)->status,
            400);
  r = post("/api/v1/shares", {{"name", "p5"}, {"path", "/p5"}, {"metadata_store", "etcd"}},
           admin_token_);
  EXPECT_EQ(r->status, 400);
  r = post("/api/v1/shares", {{"name", "p6"}, {"path", "/p6"}, {"allowed_hosts", {"nonsense"}}},
           admin_token_);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(json::parse(r->body)["field"], "allowed_hosts");
  EXPECT_EQ(del("/api/v1/shares/export", admin_token_)->status, 409);  // from the config file
  EXPECT_EQ(del("/api/v1/shares/projects", admin_token_)->status, 204);
  EXPECT_EQ(del("/api/v1/shares/projects", admin_token_)->status, 404);
  EXPECT_THROW(nfs->lookup_path("/projects"), CompoundError);
  // The old handle is stale now.
  auto res = nfs->call(nfs->builder().op(OP_PUTFH, PutFhArgs{fh}));
  EXPECT_EQ(res.status, NFS4ERR_STALE);
}

TEST_F(ApiTest, ShareAccessListsAndRootSquashApply) {
  ASSERT_EQ(post("/api/v1/shares",
                 {{"name", "closed"}, {"path", "/closed"}, {"allowed_hosts", {"10.0.0.0/8"}}},
                 admin_token_)
                ->status,
            201);
  ASSERT_EQ(
      post("/api/v1/shares",
           {{"name", "open"}, {"path", "/open"}, {"allowed_hosts", {"127.0.0.0/8"}}}, admin_token_)
          ->status,
      201);
  auto nfs = client();
  auto r = nfs->call(nfs->builder().op(OP_PUTROOTFH).op(OP_LOOKUP, ComponentArgs{"closed"}));
  EXPECT_EQ(r.status, NFS4ERR_ACCESS);
  Fh open = nfs->lookup_path("/open");
  // Root squashing is on by default for API shares: root's new file belongs to nobody.
  NfsClient::Opened f = nfs->open_or_throw(open, "file", OPEN4_SHARE_ACCESS_BOTH);
  EXPECT_EQ(nfs->getattr_u64(f.fh, FATTR4_FILEID) > 0, true);
  Fattr fa;
  ASSERT_EQ(nfs->getattr(f.fh, Bitmap{FATTR4_OWNER}, fa), NFS4_OK);
  xdr::Decoder d(fa.vals.span());
  std::string owner;
  d.string(owner);
  EXPECT_EQ(owner, "65534");
  // A user list admits only the listed uids.
  make_user("ann", "user", 1000);
  ASSERT_EQ(post("/api/v1/shares",
                 {{"name", "anns"}, {"path", "/anns"}, {"allowed_users", {"ann"}}}, admin_token_)
                ->status,
            201);
  EXPECT_EQ(post("/api/v1/shares", {{"name", "x"}, {"path", "/x"}, {"allowed_users", {"admin"}}},
                 admin_token_)
                ->status,
            400);  // admin has no uid
  auto as_ann = client(1000, 1000);
  EXPECT_NO_THROW(as_ann->lookup_path("/anns"));
  auto as_bob = client(1001, 1001);
  EXPECT_THROW(as_bob->lookup_path("/anns"), CompoundError);
}

TEST_F(ApiTest, SettingsValidateAndApplyLive) {
  auto r = get("/api/v1/adapters/nfs/settings", admin_token_);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["lease_time"], 90);
  r = patch("/api/v1/adapters/nfs/settings", {{"lease_time", 5}}, admin_token_);
  ASSERT_EQ(r->status, 400);
  auto p = json::parse(r->body);
  EXPECT_EQ(p["field"], "lease_time");
  EXPECT_EQ(p["allowed"]["min"], 10);
  EXPECT_EQ(p["allowed"]["max"], 3600);
  // A change with one bad field changes nothing.
  r = patch("/api/v1/adapters/nfs/settings", {{"lease_time", 30}, {"max_compound_ops", 0}},
            admin_token_);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(json::parse(get("/api/v1/adapters/nfs/settings", admin_token_)->body)["lease_time"],
            90);
  EXPECT_EQ(patch("/api/v1/adapters/nfs/settings", {{"bogus", 1}}, admin_token_)->status, 400);
  EXPECT_EQ(
      patch("/api/v1/adapters/nfs/settings", {{"delegations_enabled", 3}}, admin_token_)->status,
      400);
  EXPECT_EQ(patch("/api/v1/adapters/nfs/settings",
                  {{"min_minor_version", 2}, {"max_minor_version", 1}}, admin_token_)
                ->status,
            400);
  r = patch("/api/v1/adapters/nfs/settings", {{"lease_time", 30}, {"v4_max_session_slots", 4}},
            admin_token_);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["settings"]["lease_time"], 30);
  EXPECT_TRUE(json::parse(r->body)["restart_required"].empty());
  // Live: a new session gets the new slot limit, and the lease attribute changed.
  auto nfs = client();
  EXPECT_EQ(nfs->fore.maxrequests, 4u);
  EXPECT_EQ(nfs->getattr_u64(nfs->root_fh(), FATTR4_LEASE_TIME), 30u);
  // PUT needs every field.
  EXPECT_EQ(put("/api/v1/adapters/nfs/settings", {{"lease_time", 60}}, admin_token_)->status, 400);
  auto all = json::parse(get("/api/v1/adapters/nfs/settings/defaults", admin_token_)->body);
  EXPECT_EQ(all["lease_time"], 90);
  all["lease_time"] = 120;
  r = put("/api/v1/adapters/nfs/settings", all, admin_token_);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["settings"]["lease_time"], 120);
  EXPECT_EQ(json::parse(r->body)["settings"]["v4_max_session_slots"], 64);
  // Reset one field, then all.
  patch("/api/v1/adapters/nfs/settings", {{"max_compound_ops", 50}}, admin_token_);
  r = post("/api/v1/adapters/nfs/settings/reset?setting=lease_time", json::object(), admin_token_);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["settings"]["lease_time"], 90);
  EXPECT_EQ(json::parse(r->body)["settings"]["max_compound_ops"], 50);
  EXPECT_EQ(post("/api/v1/adapters/nfs/settings/reset?setting=nope", json::object(), admin_token_)
                ->status,
            400);
  r = post("/api/v1/adapters/nfs/settings/reset", json::object(), admin_token_);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body)["settings"]["max_compound_ops"], 128);
}

TEST_F(ApiTest, ControlDataSurvivesRestart) {
  make_user("ann", "operator", 1000);
  ASSERT_EQ(post("/api/v1/shares", {{"name", "keep"}, {"path", "/keep"}}, admin_token_)->status,
            201);
  ASSERT_EQ(patch("/api/v1/adapters/nfs/settings", {{"lease_time", 45}}, admin_token_)->status,
            200);
  std::string admin_pw = daemon().generated_admin_password();
  start(server::Config{});
  std::string t = login("admin", admin_pw);
  ASSERT_FALSE(t.empty());
  EXPECT_FALSE(login("ann", "password-ann").empty());
  EXPECT_EQ(get("/api/v1/shares/keep", t)->status, 200);
  EXPECT_EQ(json::parse(get("/api/v1/adapters/nfs/settings", t)->body)["lease_time"], 45);
  auto nfs = client();
  EXPECT_NO_THROW(nfs->lookup_path("/keep"));
  EXPECT_EQ(nfs->getattr_u64(nfs->root_fh(), FATTR4_LEASE_TIME), 45u);
}

TEST_F(ApiTest, ClientsAndSessionsAreListedAndEvicted) {
  auto nfs = client();
  auto r = get("/api/v1/clients", admin_token_);
  ASSERT_EQ(r->status, 200);
  auto clients = json::parse(r->body);
  ASSERT_EQ(clients.size(), 1u);
  EXPECT_EQ(clients[0]["owner"], nfs->owner_name);
  EXPECT_EQ(clients[0]["session_count"], 1);
  EXPECT_EQ(clients[0]["minor_version"], 1);
  EXPECT_GT(clients[0]["lease_remaining_s"].get<double>(), 0.0);
  std::string id = clients[0]["id"];
  EXPECT_EQ(get("/api/v1/clients/" + id, admin_token_)->status, 200);
  EXPECT_EQ(get("/api/v1/clients/ffffffffffffffff", admin_token_)->status, 404);
  r = get("/api/v1/clients/" + id + "/sessions", admin_token_);
  ASSERT_EQ(r->status, 200);
  auto sessions = json::parse(r->body);
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_EQ(sessions[0]["fore_slots"], nfs->fore.maxrequests);
  EXPECT_EQ(sessions[0]["fore_connections"], 1);
  EXPECT_TRUE(sessions[0].contains("back_channel"));
  std::string sid = sessions[0]["id"];
  EXPECT_EQ(
      del("/api/v1/clients/" + id + "/sessions/" + std::string(32, '0'), admin_token_)->status,
      404);
  EXPECT_EQ(del("/api/v1/clients/" + id + "/sessions/" + sid, admin_token_)->status, 204);
  EXPECT_EQ(nfs->call(nfs->builder()).status, NFS4ERR_BADSESSION);
  // Evicting drops the client and closes its connection.
  auto other = client();
  std::string other_id;
  for (auto& c : json::parse(get("/api/v1/clients", admin_token_)->body)) {
    if (c["owner"] == other->owner_name) other_id = c["id"];
  }
  ASSERT_FALSE(other_id.empty());
  EXPECT_EQ(del("/api/v1/clients/" + other_id, admin_token_)->status, 204);
  EXPECT_TRUE(other->rpc().wait_closed());
  EXPECT_EQ(get("/api/v1/clients/" + other_id, admin_token_)->status, 404);
}

TEST_F(ApiTest, ServerStatus) {
  auto r = get("/api/v1/server", admin_token_);
  ASSERT_EQ(r->status, 200);
  auto s = json::parse(r->body);
  EXPECT_FALSE(s["version"].get<std::string>().empty());
  EXPECT_GE(s["uptime_s"].get<double>(), 0.0);
  EXPECT_EQ(s["listeners"]["nfs"], "127.0.0.1:" + std::to_string(port()));
  EXPECT_EQ(get("/api/v1/nothing-here", admin_token_)->status, 404);
}

}  // namespace
}  // namespace dfs::testing
