// Squashing options of shares through the REST API over HTTP: all_squash and the anonymous
// ids on create, PATCH of a live share (the next NFS operation sees it), validation with the
// field named, persistence across restart, and control databases from before these options.

#include <httplib.h>
#include <sqlite3.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "api_fixture.h"
#include "nfs4_test_util.h"

namespace dfs::testing {
namespace {

using nlohmann::json;

class ShareSquashApiTest : public ApiServerTest {
 protected:
  static std::pair<std::string, std::string> owners(NfsClient& c, const Fh& fh) {
    Attrs a = get_attrs(c, fh, {FATTR4_OWNER, FATTR4_OWNER_GROUP});
    return {a.str(FATTR4_OWNER), a.str(FATTR4_OWNER_GROUP)};
  }
  static Fh create_file(NfsClient& c, const Fh& dir, const std::string& name) {
    auto o = c.open_or_throw(dir, name, OPEN4_SHARE_ACCESS_BOTH);
    c.close(o);
    return o.fh;
  }
  static nfsstat4 setattr(NfsClient& c, const Fh& fh, const Fattr& attrs) {
    return c.call(c.builder().op(OP_PUTFH, PutFhArgs{fh}).op(OP_SETATTR, SetattrArgs{{}, attrs}))
        .status;
  }
};

using Owners = std::pair<std::string, std::string>;

TEST_F(ShareSquashApiTest, CreateTakesAllSquashAndAnonIds) {
  auto [status, body] = send("POST", "/api/v1/shares",
                             {{"name", "team"},
                              {"path", "/team"},
                              {"all_squash", true},
                              {"anon_uid", 1234},
                              {"anon_gid", 5678}});
  ASSERT_EQ(status, 201) << body.dump();
  EXPECT_EQ(body["all_squash"], true);
  EXPECT_EQ(body["root_squash"], true);
  EXPECT_EQ(body["anon_uid"], 1234);
  EXPECT_EQ(body["anon_gid"], 5678);
  auto [st, shown] = send("GET", "/api/v1/shares/team");
  ASSERT_EQ(st, 200);
  EXPECT_EQ(shown["anon_uid"], 1234);
  // Defaults: root squashed to 65534:65534, not every user.
  auto [st2, plain] = send("POST", "/api/v1/shares", {{"name", "plain"}, {"path", "/plain"}});
  ASSERT_EQ(st2, 201);
  EXPECT_EQ(plain["root_squash"], true);
  EXPECT_EQ(plain["all_squash"], false);
  EXPECT_EQ(plain["anon_uid"], 65534);
  EXPECT_EQ(plain["anon_gid"], 65534);
  // The embedded default share is listed as squashing root too.
  auto [st3, exp] = send("GET", "/api/v1/shares/export");
  ASSERT_EQ(st3, 200);
  EXPECT_EQ(exp["root_squash"], true);
  EXPECT_EQ(exp["all_squash"], false);

  // Over NFS, a user's file in the all-squashed share belongs to the anonymous ids (and the
  // empty share's root to them as well, so that they can write there).
  auto user = client(1000, 1000);
  Fh team = user->lookup_path("/team");
  EXPECT_EQ(owners(*user, team), Owners("1234", "5678"));
  EXPECT_EQ(owners(*user, create_file(*user, team, "f")), Owners("1234", "5678"));
}

TEST_F(ShareSquashApiTest, RootSquashTakesGidZeroAndGroupZeroFromEveryUser) {
  ASSERT_EQ(send("POST", "/api/v1/shares", {{"name", "team"}, {"path", "/team"}}).first, 201);
  auto root = client();
  Fh team = root->lookup_path("/team");
  Fh pub;
  ASSERT_EQ(root->mkdir(team, "pub", &pub), NFS4_OK);
  ASSERT_EQ(setattr(*root, pub, AttrBuilder().u32(FATTR4_MODE, 0777).build()), NFS4_OK);
  // uid 1000 claiming gid 0 and group 0: it stays uid 1000, group 0 becomes anon_gid.
  auto user = std::make_unique<NfsClient>("127.0.0.1", port(), 1000, 0);
  user->rpc().set_auth_sys(1000, 0, {0, 100});
  user->establish();
  Fh f = create_file(*user, pub, "f");
  EXPECT_EQ(owners(*user, f), Owners("1000", "65534"));
  EXPECT_EQ(setattr(*user, f, AttrBuilder().str(FATTR4_OWNER_GROUP, "0").build()), NFS4ERR_PERM);
  EXPECT_EQ(setattr(*user, f, AttrBuilder().str(FATTR4_OWNER_GROUP, "100").build()), NFS4_OK);
}

TEST_F(ShareSquashApiTest, BadValuesAre400NamingTheField) {
  const std::vector<std::pair<std::string, json>> bad = {{"anon_uid", "1000"},
                                                         {"anon_uid", -1},
                                                         {"anon_uid", 4294967295u},
                                                         {"anon_uid", 4294967296ull},
                                                         {"anon_uid", 1.5},
                                                         {"anon_uid", nullptr},
                                                         {"anon_gid", json::array()},
                                                         {"anon_gid", -20},
                                                         {"all_squash", "yes"},
                                                         {"all_squash", 1},
                                                         {"root_squash", "false"},
                                                         {"read_only", 0},
                                                         {"allowed_hosts", "10.0.0.0/8"},
                                                         {"allowed_hosts", {1, 2}},
                                                         {"name", 7}};
  for (const auto& [field, value] : bad) {
    json body = {{"name", "s"}, {"path", "/s"}};
    body[field] = value;
    auto [status, problem] = send("POST", "/api/v1/shares", body);
    EXPECT_EQ(status, 400) << field << "=" << value.dump();
    EXPECT_EQ(problem["field"], field) << value.dump();
    if (field.starts_with("anon_")) {
      EXPECT_EQ(problem["detail"], field + " must be an integer from 0 to 4294967294");
    }
  }
  EXPECT_EQ(send("GET", "/api/v1/shares/s").first, 404) << "a refused share was created";
  // The ends of the range are ids.
  auto [status, body] =
      send("POST", "/api/v1/shares",
           {{"name", "s"}, {"path", "/s"}, {"anon_uid", 0}, {"anon_gid", 4294967294u}});
  ASSERT_EQ(status, 201) << body.dump();
  EXPECT_EQ(body["anon_uid"], 0);
  EXPECT_EQ(body["anon_gid"], 4294967294u);
}

TEST_F(ShareSquashApiTest, PatchChangesSquashingForTheNextOperation) {
  ASSERT_EQ(send("POST", "/api/v1/shares",
                 {{"name", "w"},
                  {"path", "/w"},
                  {"root_squash", false},
                  {"metadata_store", "memory"},  // a scratch share: empty again after a restart
                  {"block_store", "memory"}})
                .first,
            201);
  auto root = client();
  Fh w = root->lookup_path("/w");
  EXPECT_EQ(owners(*root, create_file(*root, w, "before")), Owners("0", "0"));
  Fh pub;
  ASSERT_EQ(root->mkdir(w, "pub", &pub), NFS4_OK);
  ASSERT_EQ(setattr(*root, pub, AttrBuilder().u32(FATTR4_MODE, 0777).build()), NFS4_OK);

  auto [status, body] = send("PATCH", "/api/v1/shares/w", {{"root_squash", true}});
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["root_squash"], true);
  // The same session, the next operation: root is nobody now.
  EXPECT_EQ(owners(*root, create_file(*root, pub, "after")), Owners("65534", "65534"));

  std::tie(status, body) = send("PATCH", "/api/v1/shares/w",
                                {{"all_squash", true}, {"anon_uid", 777}, {"anon_gid", 778}});
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["anon_uid"], 777);
  auto user = client(1000, 1000);
  EXPECT_EQ(owners(*user, create_file(*user, pub, "user")), Owners("777", "778"));

  // What cannot change, what is invalid, and who may not.
  std::tie(status, body) = send("PATCH", "/api/v1/shares/w", {{"path", "/elsewhere"}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["field"], "path");
  std::tie(status, body) = send("PATCH", "/api/v1/shares/w", {{"anon_gid", -5}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["field"], "anon_gid");
  std::tie(status, body) = send("PATCH", "/api/v1/shares/w", {{"squash_everything", true}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["field"], "squash_everything");
  std::tie(status, body) = send("PATCH", "/api/v1/shares/w", {{"allowed_hosts", {"nonsense"}}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["field"], "allowed_hosts");
  EXPECT_EQ(send("PATCH", "/api/v1/shares/w", json::array()).first, 400);
  EXPECT_EQ(send("PATCH", "/api/v1/shares/none", {{"all_squash", false}}).first, 404);
  EXPECT_EQ(send("PATCH", "/api/v1/shares/export", {{"root_squash", false}}).first, 409);
  ASSERT_EQ(send("POST", "/api/v1/users",
                 {{"username", "olga"}, {"password", "password-olga"}, {"role", "operator"}})
                .first,
            201);
  EXPECT_EQ(
      send("PATCH", "/api/v1/shares/w", {{"root_squash", false}}, login("olga", "password-olga"))
          .first,
      403);
  // None of the refused changes were applied.
  auto [st, shown] = send("GET", "/api/v1/shares/w");
  EXPECT_EQ(shown["root_squash"], true);
  EXPECT_EQ(shown["all_squash"], true);
  EXPECT_EQ(shown["anon_gid"], 778);

  // Kept in the control database: after a restart the share squashes the same way (its
  // memory stores start empty, so its root belongs to the anonymous ids again).
  start(server::Config{});
  admin_token_ = login("admin", admin_pw_);
  std::tie(st, shown) = send("GET", "/api/v1/shares/w");
  EXPECT_EQ(shown["all_squash"], true);
  EXPECT_EQ(shown["anon_uid"], 777);
  auto again = client(0, 0);
  EXPECT_EQ(owners(*again, create_file(*again, again->lookup_path("/w"), "restarted")),
            Owners("777", "778"));
}

TEST_F(ShareSquashApiTest, DatabasesFromBeforeTheSquashColumnsAreMigrated) {
  daemon_->stop();
  daemon_.reset();
  for (const char* f : {"/control.db", "/control.db-wal", "/control.db-shm"})
    std::filesystem::remove(data_dir_ + f);
  // The shares table as it was before all_squash and the anonymous ids, with one share.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((data_dir_ + "/control.db").c_str(), &db), SQLITE_OK);
  const char* old_schema = R"(
    CREATE TABLE shares (
      name TEXT PRIMARY KEY, path TEXT NOT NULL UNIQUE, idx INTEGER NOT NULL UNIQUE,
      metadata_store TEXT NOT NULL, block_store TEXT NOT NULL,
      read_only INTEGER NOT NULL, root_squash INTEGER NOT NULL,
      allowed_hosts TEXT NOT NULL, allowed_users TEXT NOT NULL, created_at TEXT NOT NULL);
    INSERT INTO shares VALUES ('old', '/old', 1000, 'memory', 'memory', 0, 1, '[]', '[]',
                               '2025-01-01T00:00:00Z');)";
  ASSERT_EQ(sqlite3_exec(db, old_schema, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  start(server::Config{});
  // A new database: the admin password was generated again.
  admin_token_ = login("admin", daemon().generated_admin_password());
  ASSERT_FALSE(admin_token_.empty());
  auto [status, shown] = send("GET", "/api/v1/shares/old");
  ASSERT_EQ(status, 200);
  EXPECT_EQ(shown["root_squash"], true);
  EXPECT_EQ(shown["all_squash"], false);
  EXPECT_EQ(shown["anon_uid"], 65534);
  EXPECT_EQ(shown["anon_gid"], 65534);
  auto root = client();
  EXPECT_EQ(owners(*root, create_file(*root, root->lookup_path("/old"), "f")),
            Owners("65534", "65534"));
  auto [st, patched] = send("PATCH", "/api/v1/shares/old", {{"anon_uid", 4000}});
  ASSERT_EQ(st, 200) << patched.dump();
  EXPECT_EQ(send("GET", "/api/v1/shares/old").second["anon_uid"], 4000);
}

}  // namespace
}  // namespace dfs::testing
