#include "control/auth_service.h"

#include <regex>

namespace dfs::control {
namespace {

int64_t epoch_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool valid_role(const std::string& role) {
  return role == "admin" || role == "operator" || role == "user";
}

bool valid_username(const std::string& name) {
  static const std::regex re("[a-z_][a-z0-9_.-]{0,31}");
  return std::regex_match(name, re);
}

AuthService::AuthService(ControlDb& db, JwtSigner& jwt, PasswordCost cost)
    : db_(db), jwt_(jwt), cost_(cost) {}

std::optional<std::string> AuthService::bootstrap(const char* initial) {
  if (!db_.users().empty()) return std::nullopt;
  bool generated = !initial || !*initial;
  std::string password = generated ? random_token(18) : std::string(initial);
  UserRecord admin;
  admin.username = "admin";
  admin.role = "admin";
  admin.password_hash = hash(password);
  db_.insert_user(admin);
  if (generated) return password;
  return std::nullopt;
}

size_t AuthService::failures_locked(const std::string& key,
                                    std::chrono::steady_clock::time_point now) {
  auto it = failures_.find(key);
  if (it == failures_.end()) return 0;
  while (!it->second.empty() && now - it->second.front() > kFailureWindow) {
    it->second.pop_front();
  }
  if (it->second.empty()) {
    failures_.erase(it);
    return 0;
  }
  return it->second.size();
}

AuthService::LoginStatus AuthService::login(const std::string& user, const std::string& password,
                                            const std::string& remote, Tokens& out,
                                            int64_t& retry_after_s) {
  const auto now = std::chrono::steady_clock::now();
  const std::string user_key = "user:" + user, addr_key = "addr:" + remote;
  {
    std::lock_guard lock(mu_);
    for (const auto& key : {user_key, addr_key}) {
      if (failures_locked(key, now) >= kMaxFailures) {
        auto wait = kFailureWindow - (now - failures_[key].front());
        retry_after_s =
            std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(wait).count());
        return LoginStatus::kThrottled;
      }
    }
  }
  auto rec = db_.user(user);
  // Hash even for unknown users, so response time does not reveal which names exist.
  static const std::string dummy = hash_password("not a password", PasswordCost::minimal());
  bool ok = verify_password(rec ? rec->password_hash : dummy, password) && rec.has_value();
  std::lock_guard lock(mu_);
  if (!ok) {
    failures_[user_key].push_back(now);
    failures_[addr_key].push_back(now);
    return LoginStatus::kBadCredentials;
  }
  failures_.erase(user_key);
  out = issue(*rec);
  return LoginStatus::kOk;
}

Tokens AuthService::issue(const UserRecord& u) {
  int64_t now = epoch_seconds();
  Tokens t;
  t.role = u.role;
  t.expires_in = kAccessLifetime.count();
  t.access = jwt_.sign({{"sub", u.username},
                        {"role", u.role},
                        {"typ", "access"},
                        {"iat", now},
                        {"exp", now + kAccessLifetime.count()},
                        {"jti", random_token(9)}});
  t.refresh = jwt_.sign({{"sub", u.username},
                         {"typ", "refresh"},
                         {"iat", now},
                         {"exp", now + kRefreshLifetime.count()},
                         {"jti", random_token(9)}});
  return t;
}

std::optional<Tokens> AuthService::refresh(const std::string& refresh_token) {
  auto claims = jwt_.verify(refresh_token);
  if (!claims || claims->value("typ", "") != "refresh") return std::nullopt;
  auto rec = db_.user(claims->value("sub", ""));
  if (!rec) return std::nullopt;
  return issue(*rec);
}

std::optional<Caller> AuthService::authenticate(const std::string& access_token) {
  auto claims = jwt_.verify(access_token);
  if (!claims || claims->value("typ", "") != "access") return std::nullopt;
  auto rec = db_.user(claims->value("sub", ""));
  if (!rec) return std::nullopt;
  return Caller{rec->username, rec->role, rec->uid};
}

}  // namespace dfs::control
