#pragma once
// The control database: users, shares, named stores and settings in an embedded SQLite file in the
// data directory, so they survive restarts. One connection guarded by a mutex: the control plane is
// low-traffic and SQLite serialises writers anyway.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

struct sqlite3;

namespace dfs::control {

struct UserRecord {
  std::string username;
  std::string password_hash;
  std::string role;  // admin, operator, user
  std::optional<uint32_t> uid;
  std::string created_at;  // RFC 3339
  // Tokens carry it and stop working once it changes: a random start (a user deleted and
  // created again under the same name starts elsewhere), bumped on a password or role change
  // and on logout. Set by the database.
  int64_t token_gen = 0;
};

struct ShareRecord {
  std::string name;
  std::string path;
  uint32_t index = 0;  // namespace index: file handles carry it, so it is stable
  std::string metadata_store = "rocksdb";
  std::string block_store = "fs";
  bool read_only = false;
  bool root_squash = true;  // vfs/squash.h says what these map
  bool all_squash = false;
  uint32_t anon_uid = 65534;
  uint32_t anon_gid = 65534;
  std::vector<std::string> allowed_hosts;
  std::vector<std::string> allowed_users;
  std::string created_at;
};

// A named store (control/store_catalog.h).
struct StoreRecord {
  std::string name;
  std::string type;       // metadata: rocksdb, memory; block: fs, memory
  std::string directory;  // durable types: where the shares' directories go; memory: empty
  std::string created_at;
};

class ControlDb {
 public:
  // Opens (creating if needed) the database file; throws std::runtime_error on failure.
  explicit ControlDb(const std::string& path);
  ~ControlDb();
  ControlDb(const ControlDb&) = delete;
  ControlDb& operator=(const ControlDb&) = delete;

  std::vector<UserRecord> users();
  std::optional<UserRecord> user(const std::string& name);
  bool insert_user(const UserRecord& u);  // false if the name exists
  // Both revoke the user's tokens (bump token_gen). false: no such user.
  bool update_password(const std::string& name, const std::string& hash);
  bool bump_token_gen(const std::string& name);
  enum class RoleChange { kChanged, kUnchanged, kNoUser, kLastAdmin };
  // A role change revokes the user's tokens; the last admin keeps its role.
  RoleChange update_role(const std::string& name, const std::string& role);
  bool update_uid(const std::string& name, std::optional<uint32_t> uid);
  bool delete_user(const std::string& name);
  size_t count_role(const std::string& role);

  std::vector<ShareRecord> shares();
  bool insert_share(const ShareRecord& s);  // false if name or path exists
  // Stores the squash options and access lists of the share named s.name; false: no share.
  bool update_share_access(const ShareRecord& s);
  bool delete_share(const std::string& name);
  uint32_t max_share_index();

  // Named stores of one kind ("metadata" or "block").
  std::vector<StoreRecord> stores(const std::string& kind);
  bool insert_store(const std::string& kind, const StoreRecord& s);  // false if the name exists
  bool delete_store(const std::string& kind, const std::string& name);

  std::optional<nlohmann::json> setting(const std::string& key);
  void put_setting(const std::string& key, const nlohmann::json& value);
  void delete_setting(const std::string& key);

 private:
  void exec(const char* sql);
  void migrate();
  bool has_column(const char* table, const char* column);

  std::mutex mu_;
  sqlite3* db_ = nullptr;
};

std::string now_rfc3339();

}  // namespace dfs::control
