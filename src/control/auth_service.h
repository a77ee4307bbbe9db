#pragma once
// Control-plane authentication: users' passwords, access and refresh tokens, roles, and
// slowing down repeated failed logins.

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

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

// What the login throttle has done since start (GET /api/v1/auth/stats).
struct AuthStats {
  uint64_t password_checks = 0;  // argon2 verifications, unknown users' included
  uint64_t logins_ok = 0;
  uint64_t logins_failed = 0;
  uint64_t logins_throttled = 0;  // refused before any password check
  size_t tracked_addresses = 0;
  size_t tracked_pairs = 0;  // (address, user name)
};

bool valid_role(const std::string& role);
bool valid_username(const std::string& name);

class AuthService {
 public:
  static constexpr std::chrono::seconds kAccessLifetime{15 * 60};
  static constexpr std::chrono::seconds kRefreshLifetime{7 * 24 * 3600};
  // Login throttling (docs/api.md, "Limits"). Failures from one address for one user name:
  // the first kPairFreeFailures cost nothing, then each further attempt waits
  // kBackoffBase * 2^(failures - kPairFreeFailures), at most kBackoffMax, after the last
  // failure. The same for one address over all user names from kAddressFreeFailures on. An
  // address with no failures for a user is never refused for that user because of other
  // addresses, so nobody can lock a user out from elsewhere; once a user name has
  // kUserWindowFailures failures within kUserWindow from all addresses together, addresses
  // that have failed for it wait until the window frees up. Attempts being checked count as
  // failures until they end, so parallel attempts cannot overrun the limits.
  static constexpr uint32_t kPairFreeFailures = 5;
  static constexpr uint32_t kAddressFreeFailures = 10;
  static constexpr std::chrono::seconds kBackoffBase{5};
  static constexpr std::chrono::seconds kBackoffMax{15 * 60};
  static constexpr std::chrono::seconds kForgetAfter{15 * 60};  // no failure for this long
  static constexpr size_t kUserWindowFailures = 100;
  static constexpr std::chrono::seconds kUserWindow{5 * 60};

  AuthService(ControlDb& db, JwtSigner& jwt, PasswordCost cost);

  // Creates the admin user if there are no users. Returns the password when it was generated
  // (so the caller prints it once); `initial` is DITTOFS_ADMIN_INITIAL_PASSWORD if set.
  std::optional<std::string> bootstrap(const char* initial);

  enum class LoginStatus { kOk, kBadCredentials, kThrottled };
  // `remote` is the peer address the request came from.
  LoginStatus login(const std::string& user, const std::string& password, const std::string& remote,
                    Tokens& out, int64_t& retry_after_s);
  std::optional<Tokens> refresh(const std::string& refresh_token);
  // The caller behind an access token (the user must still exist, with the token's
  // generation; its role is current).
  std::optional<Caller> authenticate(const std::string& access_token);
  // The user behind a refresh token that still works.
  std::optional<std::string> refresh_user(const std::string& refresh_token);
  // Ends every session of the user: all its access and refresh tokens stop working.
  bool revoke_tokens(const std::string& username) { return db_.bump_token_gen(username); }

  std::string hash(const std::string& password) const { return hash_password(password, cost_); }
  AuthStats stats();

 private:
  using Clock = std::chrono::steady_clock;
  struct Backoff {
    uint32_t failures = 0;
    uint32_t pending = 0;  // attempts being checked now
    Clock::time_point last{};
  };
  Tokens issue(const UserRecord& u);
  // The user behind a token of the given type whose generation is still current.
  std::optional<UserRecord> token_user(const std::string& token, const char* type);
  // Reserves an attempt (pending on the address and the pair) or says how long to wait.
  std::optional<int64_t> reserve_locked(const std::string& addr, const std::string& user,
                                        Clock::time_point now);
  void settle_locked(const std::string& addr, const std::string& user, bool ok,
                     Clock::time_point now);
  // Seconds until `b` may try again (0: now), given the failures it may have for free.
  static int64_t wait_s(const Backoff& b, uint32_t free, Clock::time_point now);
  void sweep_locked(Clock::time_point now);

  ControlDb& db_;
  JwtSigner& jwt_;
  PasswordCost cost_;
  // Checked instead of a real hash for unknown users, at the same cost, so a wrong password
  // takes as long whether the user exists or not.
  std::string dummy_hash_;
  std::mutex mu_;
  std::map<std::string, Backoff> by_address_;
  std::map<std::pair<std::string, std::string>, Backoff> by_pair_;
  std::map<std::string, std::deque<Clock::time_point>> user_failures_;
  uint64_t calls_ = 0;
  std::atomic<uint64_t> password_checks_{0}, ok_{0}, failed_{0}, throttled_{0};
};

}  // namespace dfs::control
