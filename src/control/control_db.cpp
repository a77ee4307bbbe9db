#include "control/control_db.h"

#include <sqlite3.h>

#include <ctime>
#include <stdexcept>

// A random token generation (62 bits, never 0), in SQL.
#define DFS_RANDOM_GEN "((random() & 4611686018427387903) + 1)"

namespace dfs::control {
namespace {

// A prepared statement that finalises itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(db));
    }
  }
  ~Stmt() { sqlite3_finalize(st_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(st_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  Stmt& bind_null(int i) {
    sqlite3_bind_null(st_, i);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(st_); }
  std::string text(int col) {
    auto* p = sqlite3_column_text(st_, col);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  int64_t integer(int col) { return sqlite3_column_int64(st_, col); }
  bool is_null(int col) { return sqlite3_column_type(st_, col) == SQLITE_NULL; }
  int changes() { return sqlite3_changes(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
};

std::vector<std::string> json_list(const std::string& s) {
  auto j = nlohmann::json::parse(s, nullptr, false);
  std::vector<std::string> out;
  if (j.is_array()) {
    for (const auto& v : j) {
      if (v.is_string()) out.push_back(v.get<std::string>());
    }
  }
  return out;
}

UserRecord read_user(Stmt& st) {
  UserRecord u;
  u.username = st.text(0);
  u.password_hash = st.text(1);
  u.role = st.text(2);
  if (!st.is_null(3)) u.uid = static_cast<uint32_t>(st.integer(3));
  u.created_at = st.text(4);
  u.token_gen = st.integer(5);
  return u;
}

}  // namespace

std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

ControlDb::ControlDb(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string err = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("cannot open control database " + path + ": " + err);
  }
  sqlite3_busy_timeout(db_, 5000);
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=FULL");
  exec(R"(CREATE TABLE IF NOT EXISTS users (
            username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL,
            uid INTEGER, created_at TEXT NOT NULL,
            token_gen INTEGER NOT NULL DEFAULT 0))");
  exec(R"(CREATE TABLE IF NOT EXISTS shares (
            name TEXT PRIMARY KEY, path TEXT NOT NULL UNIQUE, idx INTEGER NOT NULL UNIQUE,
            metadata_store TEXT NOT NULL, block_store TEXT NOT NULL,
            read_only INTEGER NOT NULL, root_squash INTEGER NOT NULL,
            allowed_hosts TEXT NOT NULL, allowed_users TEXT NOT NULL, created_at TEXT NOT NULL,
            all_squash INTEGER NOT NULL DEFAULT 0, anon_uid INTEGER NOT NULL DEFAULT 65534,
            anon_gid INTEGER NOT NULL DEFAULT 65534))");
  exec(R"(CREATE TABLE IF NOT EXISTS stores (
            kind TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
            directory TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (kind, name)))");
  exec("CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  migrate();
}

bool ControlDb::has_column(const char* table, const char* column) {
  Stmt st(db_, (std::string("PRAGMA table_info(") + table + ")").c_str());
  while (st.step() == SQLITE_ROW) {
    if (st.text(1) == column) return true;
  }
  return false;
}

void ControlDb::migrate() {
  // Databases from before token generations: add the column; every user gets a random one
  // (tokens issued before carry none and stop working).
  if (!has_column("users", "token_gen")) {
    exec("ALTER TABLE users ADD COLUMN token_gen INTEGER NOT NULL DEFAULT 0");
  }
  exec("UPDATE users SET token_gen = " DFS_RANDOM_GEN " WHERE token_gen = 0");
  // Databases from before all_squash and per-share anonymous ids: their shares keep what
  // they did (root squashed to 65534:65534, if at all).
  if (!has_column("shares", "all_squash")) {
    exec("ALTER TABLE shares ADD COLUMN all_squash INTEGER NOT NULL DEFAULT 0");
  }
  if (!has_column("shares", "anon_uid")) {
    exec("ALTER TABLE shares ADD COLUMN anon_uid INTEGER NOT NULL DEFAULT 65534");
  }
  if (!has_column("shares", "anon_gid")) {
    exec("ALTER TABLE shares ADD COLUMN anon_gid INTEGER NOT NULL DEFAULT 65534");
  }
}

ControlDb::~ControlDb() {
  sqlite3_close(db_);
}

void ControlDb::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw std::runtime_error("sqlite: " + msg);
  }
}

std::vector<UserRecord> ControlDb::users() {
  std::lock_guard lock(mu_);
  Stmt st(db_,
          "SELECT username, password_hash, role, uid, created_at, token_gen FROM users "
          "ORDER BY username");
  std::vector<UserRecord> out;
  while (st.step() == SQLITE_ROW)
    out.push_back(read_user(st));
  return out;
}

std::optional<UserRecord> ControlDb::user(const std::string& name) {
  std::lock_guard lock(mu_);
  Stmt st(db_,
          "SELECT username, password_hash, role, uid, created_at, token_gen FROM users "
          "WHERE username=?");
  st.bind(1, name);
  if (st.step() != SQLITE_ROW) return std::nullopt;
  return read_user(st);
}

bool ControlDb::insert_user(const UserRecord& u) {
  std::lock_guard lock(mu_);
  Stmt st(db_,
          "INSERT OR IGNORE INTO users (username, password_hash, role, uid, created_at, token_gen) "
          "VALUES (?, ?, ?, ?, ?, " DFS_RANDOM_GEN ")");
  st.bind(1, u.username).bind(2, u.password_hash).bind(3, u.role);
  if (u.uid) {
    st.bind(4, static_cast<int64_t>(*u.uid));
  } else {
    st.bind_null(4);
  }
  st.bind(5, u.created_at.empty() ? now_rfc3339() : u.created_at);
  return st.step() == SQLITE_DONE && st.changes() == 1;
}

bool ControlDb::update_password(const std::string& name, const std::string& hash) {
  std::lock_guard lock(mu_);
  Stmt st(db_, "UPDATE users SET password_hash=?, token_gen=token_gen+1 WHERE username=?");
  st.bind(1, hash).bind(2, name);
  return st.step() == SQLITE_DONE && st.changes() == 1;
}

bool ControlDb::bump_token_gen(const std::string& name) {
  std::lock_guard lock(mu_);
  Stmt st(db_, "UPDATE users SET token_gen=token_gen+1 WHERE username=?");
  st.bind(1, name);
  return st.step() == SQLITE_DONE && st.changes() == 1;
}

ControlDb::RoleChange ControlDb::update_role(const std::string& name, const std::string& role) {
  std::lock_guard lock(mu_);
  std::string current;
  {
    Stmt st(db_, "SELECT role FROM users WHERE username=?");
    st.bind(1, name);
    if (st.step() != SQLITE_ROW) return RoleChange::kNoUser;
    current = st.text(0);
  }
  if (current == role) return RoleChange::kUnchanged;
  if (current == "admin") {
    Stmt st(db_, "SELECT COUNT(*) FROM users WHERE role='admin'");
    if (st.step() != SQLITE_ROW || st.integer(0) <= 1) return RoleChange::kLastAdmin;
  }
  // One connection under mu_: nothing changes between the reads and this write.
  Stmt st(db_, "UPDATE users SET role=?, token_gen=token_gen+1 WHERE username=?");
  st.bind(1, role).bind(2, name);
  if (st.step() != SQLITE_DONE) throw std::runtime_error("sqlite: cannot change a role");
  return RoleChange::kChanged;
}

bool ControlDb::update_uid(const std::string& name, std::optional<uint32_t> uid) {
  std::lock_guard lock(mu_);
  Stmt st(db_, "UPDATE users SET uid=? WHERE username=?");
  if (uid) {
    st.bind(1, static_cast<int64_t>(*uid));
  } else {
    st.bind_null(1);
  }
  st.bind(2, name);
  return st.step() == SQLITE_DONE && st.changes() == 1;
}

bool ControlDb::delete_user(const std::string& name) {
  std::lock_guard lock(mu_);
  Stmt st(db_, "DELETE FROM users WHERE username=?");
  st.bind(1, name);
  return st.step() == SQLITE_DONE && st.changes() == 1;
}

size_t ControlDb::count_role(const std::string& role) {
  std::lock_guard lock(mu_);
  Stmt st(db_, "SELECT COUNT(*) FROM users WHERE role=?");
  st.bind(1, role);
  return st.step() == SQLITE_ROW ? static_cast<size_t>(st.integer(0)) : 0;
}

std::vector<ShareRecord> ControlDb::shares() {
  std::lock_guard lock(mu_);
  Stmt st(db_,
          "SELECT name, path, idx, metadata_store, block_store, read_only, root_squash, "
          "allowed_hosts, allowed_users, created_at, all_squash, anon_uid, anon_gid "
          "FROM shares ORDER BY idx");
  std::vector<ShareRecord> out;
  while (st.step() == SQLITE_ROW) {
    ShareRecord s;
    s.name = st.text(0);
    s.path = st.text(1);
    s.index = static_cast<uint32_t>(st.integer(2));
    s.metadata_store = st.text(3);
    s.block_store = st.text(4);
    s.read_only = st.integer(5) != 0;
    s.root_squash = st.integer(6) != 0;
    s.allowed_hosts = json_list(st.text(7));
    s.allowed_users = json_list(st.text(8));
    s.created_at = st.text(9);
    s.all_squash = st.integer(10) != 0;
    s.anon_uid = static_cast<uint32_t>(st.integer(11));
    s.anon_gid = static_cast<uint32_t>(st.integer(12));
    out.push_back(std::move(s));
  }
  return out;
}

bool ControlDb::insert_share(const ShareRecord& s) {
  std::lock_guard lock(mu_);
  Stmt st(db_,
          "INSERT OR IGNORE INTO shares (name, path, idx, metadata_store, block_store, read_only, "
          "root_squash, allowed_hosts, allowed_users, created_at, all_squash, anon_uid, anon_gid) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  st.bind(1, s.name).bind(2, s.path).bind(3, static_cast<int64_t>(s.index));
  st.bind(4, s.metadata_store).bind(5, s.block_store);
  st.bind(6, int64_t{s.read_only}).bind(7, int64_t{s.root_squash});
  st.bind(8, nlohmann::json(s.allowed_hosts).dump())
      .bind(9, nlohmann::json(s.allowed_users).dump());
  st.bind(10, s.created_at.empty() ? now_rfc3339() : s.created_at);
  st.bind(11, int64_t{s.all_squash}).bind(12, int64_t{s.anon_uid}).bind(13, int64_t{s.anon_gid});
  return st.step() == SQLITE_DONE && st.changes() == 1;
}

bool ControlDb::update_share_access(const ShareRecord& s) {
  std::lock_guard lock(mu_);
  Stmt st(db_,
          "UPDATE shares SET root_squash=?, all_squash=?, anon_uid=?, anon_gid=?, "
          "allowed_hosts=?, allowed_users=? WHERE name=?");
  st.bind(1, int64_t{s.root_squash}).bind(2, int64_t{s.all_squash});
  st.bind(3, int64_t{s.anon_uid}).bind(4, int64_t{s.anon_gid});
  st.bind(5, nlohmann::json(s.allowed_hosts).dump())
      .bind(6, nlohmann::json(s.allowed_users).dump());
  st.bind(7, s.name);
  return st.step() == SQLITE_DONE && st.changes() == 1;
}

bool ControlDb::delete_share(const std::string& name) {
  std::lock_guard lock(mu_);
  Stmt st(db_, "DELETE FROM shares WHERE name=?");
  st.bind(1, name);
  return st.step() == SQLITE_DONE && st.changes() == 1;
}

uint32_t ControlDb::max_share_index() {
  std::lock_guard lock(mu_);
  Stmt st(db_, "SELECT COALESCE(MAX(idx), 0) FROM shares");
  return st.step() == SQLITE_ROW ? static_cast<uint32_t>(st.integer(0)) : 0;
}

std::vector<StoreRecord> ControlDb::stores(const std::string& kind) {
  std::lock_guard lock(mu_);
  Stmt st(db_,
          "SELECT name, type, directory, created_at FROM stores WHERE kind=? "
          "ORDER BY created_at, name");
  st.bind(1, kind);
  std::vector<StoreRecord> out;
  while (st.step() == SQLITE_ROW)
    out.push_back({st.text(0), st.text(1), st.text(2), st.text(3)});
  return out;
}

bool ControlDb::insert_store(const std::string& kind, const StoreRecord& s) {
  std::lock_guard lock(mu_);
  Stmt st(db_,
          "INSERT OR IGNORE INTO stores (kind, name, type, directory, created_at) "
          "VALUES (?, ?, ?, ?, ?)");
  st.bind(1, kind).bind(2, s.name).bind(3, s.type).bind(4, s.directory);
  st.bind(5, s.created_at.empty() ? now_rfc3339() : s.created_at);
  return st.step() == SQLITE_DONE && st.changes() == 1;
}

bool ControlDb::delete_store(const std::string& kind, const std::string& name) {
  std::lock_guard lock(mu_);
  Stmt st(db_, "DELETE FROM stores WHERE kind=? AND name=?");
  st.bind(1, kind).bind(2, name);
  return st.step() == SQLITE_DONE && st.changes() == 1;
}

std::optional<nlohmann::json> ControlDb::setting(const std::string& key) {
  std::lock_guard lock(mu_);
  Stmt st(db_, "SELECT value FROM settings WHERE key=?");
  st.bind(1, key);
  if (st.step() != SQLITE_ROW) return std::nullopt;
  auto j = nlohmann::json::parse(st.text(0), nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

void ControlDb::put_setting(const std::string& key, const nlohmann::json& value) {
  std::lock_guard lock(mu_);
  Stmt st(db_,
          "INSERT INTO settings (key, value) VALUES (?, ?) "
          "ON CONFLICT(key) DO UPDATE SET value=excluded.value");
  st.bind(1, key).bind(2, value.dump());
  if (st.step() != SQLITE_DONE) throw std::runtime_error("sqlite: cannot store setting " + key);
}

void ControlDb::delete_setting(const std::string& key) {
  std::lock_guard lock(mu_);
  Stmt st(db_, "DELETE FROM settings WHERE key=?");
  st.bind(1, key);
  st.step();
}

}  // namespace dfs::control
