#pragma once
// Control-plane authentication: users' passwords, access and refresh tokens, roles, and
// slowing down repeated failed logins.

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "control/control_db.h"
#include "control/jwt.h"
#include "control/password.h"

namespace dfs::control {

struct Caller {
  std::string username;
  std::string role;
  std::optional<uint32_t> uid;
  bool is_admin() const { return role == "admin"; }
  // Operators (and admins) may read everything.
  bool can_read() const { return role == "admin" || role == "operator"; }
};

struct Tokens {
  std::string access;
  std::string refresh;
  int64_t expires_in = 0;
  std::string role;
};

bool valid_role(const std::string& role);
bool valid_username(const std::string& name);

class AuthService {
 public:
  static constexpr std::chrono::seconds kAccessLifetime{15 * 60};
  static constexpr std::chrono::seconds kRefreshLifetime{7 * 24 * 3600};
  static constexpr size_t kMaxFailures = 5;
  static constexpr std::chrono::seconds kFailureWindow{5 * 60};

  AuthService(ControlDb& db, JwtSigner& jwt, PasswordCost cost);

  // Creates the admin user if there are no users. Returns the password when it was generated
  // (so the caller prints it once); `initial` is DITTOFS_ADMIN_INITIAL_PASSWORD if set.
  std::optional<std::string> bootstrap(const char* initial);

  enum class LoginStatus { kOk, kBadCredentials, kThrottled };
  LoginStatus login(const std::string& user, const std::string& password, const std::string& remote,
                    Tokens& out, int64_t& retry_after_s);
  std::optional<Tokens> refresh(const std::string& refresh_token);
  // The caller behind an access token (the user must still exist; its role is current).
  std::optional<Caller> authenticate(const std::string& access_token);

  std::string hash(const std::string& password) const { return hash_password(password, cost_); }

 private:
  Tokens issue(const UserRecord& u);
  // Failed attempts in the window for this key; drops older ones.
  size_t failures_locked(const std::string& key, std::chrono::steady_clock::time_point now);

  ControlDb& db_;
  JwtSigner& jwt_;
  PasswordCost cost_;
  std::mutex mu_;
  std::map<std::string, std::deque<std::chrono::steady_clock::time_point>> failures_;
};

}  // namespace dfs::control
