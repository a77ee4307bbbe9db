#include "control/auth_service.h"

#include <algorithm>
#include <regex>

namespace dfs::control {
namespace {

int64_t epoch_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t ceil_seconds(std::chrono::steady_clock::duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return std::max<int64_t>(1, (ms + 999) / 1000);
}

}  // namespace

bool valid_role(const std::string& role) {
  return role == "admin" || role == "operator" || role == "user";
}

bool valid_username(const std::string& name) {
  static const std::regex re("[a-z_][a-z0-9_.-]{0,31}");
  return name.size() <= 32 && std::regex_match(name, re);
}

AuthService::AuthService(ControlDb& db, JwtSigner& jwt, PasswordCost cost)
    : db_(db), jwt_(jwt), cost_(cost), dummy_hash_(hash_password(random_token(18), cost)) {}

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

int64_t AuthService::wait_s(const Backoff& b, uint32_t free, Clock::time_point now) {
  if (b.failures < free) {
    // Free attempts left, but the ones being checked count until they end.
    return b.failures + b.pending < free ? 0 : 1;
  }
  if (b.pending > 0) return 1;  // one attempt at a time once backing off
  auto shift = std::min<uint32_t>(b.failures - free, 16);
  auto backoff = std::min<std::chrono::steady_clock::duration>(kBackoffBase * (int64_t{1} << shift),
                                                               kBackoffMax);
  auto until = b.last + backoff;
  return until > now ? ceil_seconds(until - now) : 0;
}

void AuthService::sweep_locked(Clock::time_point now) {
  auto stale = [&](const Backoff& b) { return b.pending == 0 && now - b.last > kForgetAfter; };
  std::erase_if(by_address_, [&](const auto& kv) { return stale(kv.second); });
  std::erase_if(by_pair_, [&](const auto& kv) { return stale(kv.second); });
  for (auto it = user_failures_.begin(); it != user_failures_.end();) {
    while (!it->second.empty() && now - it->second.front() > kUserWindow)
      it->second.pop_front();
    it = it->second.empty() ? user_failures_.erase(it) : std::next(it);
  }
}

std::optional<int64_t> AuthService::reserve_locked(const std::string& addr, const std::string& user,
                                                   Clock::time_point now) {
  if (++calls_ % 1024 == 0) sweep_locked(now);
  auto forget = [&](Backoff& b) {
    if (b.pending == 0 && b.failures > 0 && now - b.last > kForgetAfter) b = Backoff{};
  };
  Backoff& a = by_address_[addr];
  Backoff& p = by_pair_[{addr, user}];
  forget(a);
  forget(p);
  int64_t wait = std::max(wait_s(a, kAddressFreeFailures, now), wait_s(p, kPairFreeFailures, now));
  if (wait == 0 && p.failures > 0) {
    // A user name under attack from many addresses: those that failed for it wait.
    auto it = user_failures_.find(user);
    if (it != user_failures_.end()) {
      auto& q = it->second;
      while (!q.empty() && now - q.front() > kUserWindow)
        q.pop_front();
      if (q.size() >= kUserWindowFailures) wait = ceil_seconds(q.front() + kUserWindow - now);
    }
  }
  if (wait > 0) return wait;
  ++a.pending;
  ++p.pending;
  return std::nullopt;
}

void AuthService::settle_locked(const std::string& addr, const std::string& user, bool ok,
                                Clock::time_point now) {
  Backoff& a = by_address_[addr];
  if (a.pending > 0) --a.pending;
  auto pair = by_pair_.find({addr, user});
  if (ok) {
    // The address keeps its failures (other names it tried); the pair starts afresh.
    if (pair != by_pair_.end()) {
      if (pair->second.pending > 1) {
        --pair->second.pending;
        pair->second.failures = 0;
      } else {
        by_pair_.erase(pair);
      }
    }
    if (a.failures == 0 && a.pending == 0) by_address_.erase(addr);
    return;
  }
  ++a.failures;
  a.last = now;
  Backoff& p = pair != by_pair_.end() ? pair->second : by_pair_[{addr, user}];
  if (p.pending > 0) --p.pending;
  ++p.failures;
  p.last = now;
  user_failures_[user].push_back(now);
}

AuthService::LoginStatus AuthService::login(const std::string& user, const std::string& password,
                                            const std::string& remote, Tokens& out,
                                            int64_t& retry_after_s) {
  // Names that cannot exist share one key, so made-up names cannot grow the tables.
  const std::string key = valid_username(user) ? user : std::string("\x01invalid");
  {
    std::lock_guard lock(mu_);
    if (auto wait = reserve_locked(remote, key, Clock::now())) {
      retry_after_s = *wait;
      ++throttled_;
      return LoginStatus::kThrottled;
    }
  }
  bool ok = false;
  std::optional<UserRecord> rec;
  try {
    rec = key == user ? db_.user(user) : std::nullopt;
    // The same work for unknown users, so the response time does not tell which names exist.
    ++password_checks_;
    ok = verify_password(rec ? rec->password_hash : dummy_hash_, password) && rec.has_value();
    if (ok) out = issue(*rec);
  } catch (...) {
    std::lock_guard lock(mu_);
    settle_locked(remote, key, false, Clock::now());
    throw;
  }
  std::lock_guard lock(mu_);
  settle_locked(remote, key, ok, Clock::now());
  ++(ok ? ok_ : failed_);
  return ok ? LoginStatus::kOk : LoginStatus::kBadCredentials;
}

AuthStats AuthService::stats() {
  AuthStats s;
  s.password_checks = password_checks_;
  s.logins_ok = ok_;
  s.logins_failed = failed_;
  s.logins_throttled = throttled_;
  std::lock_guard lock(mu_);
  sweep_locked(Clock::now());
  s.tracked_addresses = by_address_.size();
  s.tracked_pairs = by_pair_.size();
  return s;
}

Tokens AuthService::issue(const UserRecord& u) {
  int64_t now = epoch_seconds();
  Tokens t;
  t.role = u.role;
  t.expires_in = kAccessLifetime.count();
  t.access = jwt_.sign({{"sub", u.username},
                        {"role", u.role},
                        {"typ", "access"},
                        {"gen", u.token_gen},
                        {"iat", now},
                        {"exp", now + kAccessLifetime.count()},
                        {"jti", random_token(9)}});
  t.refresh = jwt_.sign({{"sub", u.username},
                         {"typ", "refresh"},
                         {"gen", u.token_gen},
                         {"iat", now},
                         {"exp", now + kRefreshLifetime.count()},
                         {"jti", random_token(9)}});
  return t;
}

std::optional<UserRecord> AuthService::token_user(const std::string& token, const char* type) {
  auto claims = jwt_.verify(token);
  if (!claims || claims->value("typ", "") != type) return std::nullopt;
  auto sub = claims->find("sub");
  auto gen = claims->find("gen");
  if (sub == claims->end() || !sub->is_string() || gen == claims->end() ||
      !gen->is_number_integer()) {
    return std::nullopt;
  }
  auto rec = db_.user(sub->get<std::string>());
  // A changed generation: the password or role changed, the user logged out, or this is
  // another user of the same name.
  if (!rec || rec->token_gen != gen->get<int64_t>()) return std::nullopt;
  return rec;
}

std::optional<Tokens> AuthService::refresh(const std::string& refresh_token) {
  auto rec = token_user(refresh_token, "refresh");
  if (!rec) return std::nullopt;
  return issue(*rec);
}

std::optional<std::string> AuthService::refresh_user(const std::string& refresh_token) {
  auto rec = token_user(refresh_token, "refresh");
  if (!rec) return std::nullopt;
  return rec->username;
}

std::optional<Caller> AuthService::authenticate(const std::string& access_token) {
  auto rec = token_user(access_token, "access");
  if (!rec) return std::nullopt;
  return Caller{rec->username, rec->role, rec->uid};
}

}  // namespace dfs::control
