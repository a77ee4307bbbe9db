#include "control/api_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "control/http_guard.h"

#include <algorithm>
#include <iomanip>
#include <sstream>
#include <stdexcept>

namespace dfs::control {
namespace {

using httplib::Request;
using httplib::Response;
using nlohmann::json;

constexpr const char* kJson = "application/json";
constexpr size_t kMinPassword = 8;
constexpr size_t kMaxPassword = 256;

// Replies may quote what the request said (a user or setting name); bytes that are not
// UTF-8 there are replaced rather than letting dump() throw and turn a 4xx into a 500.
std::string serialise(const json& body) {
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

void send_json(Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(serialise(body), kJson);
}

// RFC 7807 problem details.
void problem(Response& res, int status, const std::string& title, const std::string& detail,
             const std::string& field = "", std::optional<uint64_t> min = {},
             std::optional<uint64_t> max = {}) {
  json p = {{"type", "https://dittofs.dev/problems/" + std::to_string(status)},
            {"title", title},
            {"status", status},
            {"detail", detail}};
  if (!field.empty()) p["field"] = field;
  if (min || max) {
    p["allowed"] = json::object();
    if (min) p["allowed"]["min"] = *min;
    if (max) p["allowed"]["max"] = *max;
  }
  res.status = status;
  res.set_content(serialise(p), "application/problem+json");
}

const char* title_for(int status) {
  switch (status) {
    case 400:
      return "Bad request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not found";
    case 409:
      return "Conflict";
    case 411:
      return "Length required";
    case 413:
      return "Payload too large";
    case 414:
      return "URI too long";
    case 415:
      return "Unsupported media type";
    case 429:
      return "Too many requests";
    default:
      return "Error";
  }
}

void api_error(Response& res, const ApiError& e) {
  problem(res, e.status, title_for(e.status), e.detail, e.field);
}

void validation_error(Response& res, const ValidationError& e) {
  problem(res, 400, "Invalid setting", e.detail, e.field, e.min, e.max);
}

std::optional<json> parse_body(const Request& req, Response& res) {
  auto j = json::parse(req.body, nullptr, false);
  if (j.is_discarded()) {
    problem(res, 400, "Bad request", "the body is not valid JSON");
    return std::nullopt;
  }
  return j;
}

std::string hex(const uint8_t* p, size_t n) {
  std::ostringstream os;
  for (size_t i = 0; i < n; ++i)
    os << std::hex << std::setw(2) << std::setfill('0') << int(p[i]);
  return os.str();
}

std::string iso(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json user_json(const UserRecord& u) {
  json j = {{"username", u.username}, {"role", u.role}, {"created_at", u.created_at}};
  j["uid"] = u.uid ? json(*u.uid) : json(nullptr);
  return j;
}

std::string client_id_hex(uint64_t id) {
  std::ostringstream os;
  os << std::hex << std::setw(16) << std::setfill('0') << id;
  return os.str();
}

const char* protection_name(nfs4::state_protect_how4 how) {
  switch (how) {
    case nfs4::SP4_MACH_CRED:
      return "mach_cred";
    case nfs4::SP4_SSV:
      return "ssv";
    default:
      return "none";
  }
}

// A steady-clock instant as wall-clock time (connections record activity on the steady
// clock, which never jumps).
std::chrono::system_clock::time_point wall_time(std::chrono::steady_clock::time_point t) {
  auto ago = std::chrono::steady_clock::now() - t;
  return std::chrono::system_clock::now() -
         std::chrono::duration_cast<std::chrono::system_clock::duration>(ago);
}

json client_json(const nfs4::state::ClientSummary& c) {
  return {{"id", client_id_hex(c.id)},
          {"owner", c.owner},
          {"address", c.peer},
          {"minor_version", c.minor_version},
          {"confirmed", c.confirmed},
          {"lease_remaining_s", c.lease_remaining_s},
          {"courtesy", c.courtesy},
          {"session_count", c.sessions},
          {"implementation", c.impl_name},
          {"state_protection", protection_name(c.state_protection)}};
}

json channel_json(const nfs4::ChannelAttrs& a) {
  return {{"max_request_size", a.maxrequestsize},
          {"max_response_size", a.maxresponsesize},
          {"max_response_size_cached", a.maxresponsesize_cached},
          {"max_operations", a.maxoperations},
          {"max_requests", a.maxrequests}};
}

// One connection as a session sees it.
json binding_json(const nfs4::state::BindingSummary& b) {
  json j = {{"id", b.connection_id},
            {"direction", nfs4::state::direction_name(b.dir)},
            {"bound_at", iso(b.bound_at)}};
  if (b.conn) {
    j["peer"] = b.conn->peer();
    j["last_activity"] = iso(wall_time(b.conn->last_activity()));
    j["draining"] = b.conn->draining();
  } else {
    j["peer"] = nullptr;
    j["last_activity"] = nullptr;
    j["draining"] = false;
  }
  return j;
}

json backchannel_json(const nfs4::CallbackService::Status& b) {
  return {{"program", b.program},
          {"slots", b.slots},
          {"in_flight", b.in_flight},
          {"queued", b.queued},
          {"path_up", b.path_up},
          {"fault", b.fault},
          {"callbacks_sent", b.sent},
          {"last_result", b.last_result.empty() ? json(nullptr) : json(b.last_result)},
          {"last_at", b.last_at ? json(iso(*b.last_at)) : json(nullptr)}};
}

json delegation_json(const nfs4::state::DelegationSummary& d) {
  return {{"stateid", hex(d.stateid.other.data(), d.stateid.other.size())},
          {"share", d.file.fs},
          {"fileid", d.file.inode},
          {"type", d.type == nfs4::state::DelegType::kWrite ? "write" : "read"},
          {"since", iso(d.granted_at)},
          {"recalled", d.recalled},
          {"revoked", d.revoked}};
}

json session_json(const nfs4::state::SessionSummary& s) {
  json conns = json::array();
  size_t fore = 0, back = 0, both = 0;
  for (const auto& b : s.connections) {
    conns.push_back(binding_json(b));
    fore += b.dir == nfs4::state::ConnDirection::kFore;
    back += b.dir == nfs4::state::ConnDirection::kBack;
    both += b.dir == nfs4::state::ConnDirection::kBoth;
  }
  return {{"id", hex(s.id.data(), s.id.size())},
          {"connections", conns},
          {"connection_summary",
           {{"fore", fore}, {"back", back}, {"both", both}, {"total", s.connections.size()}}},
          {"created_at", iso(s.created_at)},
          {"fore_slots", s.fore.maxrequests},
          {"back_slots", s.back.maxrequests},
          {"flags", s.flags},
          {"fore_connections", s.fore_connections},
          {"back_connections", s.back_connections},
          {"slots_in_use", s.slots_in_use},
          {"fore_channel", channel_json(s.fore)},
          {"back_channel", channel_json(s.back)},
          {"callback_program", s.cb_program}};
}

// One connection as the transport and the NFS state see it.
json connection_json(const rpc::Connection& c, const nfs4::state::StateManager& state) {
  auto idle = std::chrono::steady_clock::now() - c.last_activity();
  json sessions = json::array();
  for (const auto& [sid, dir] : state.connection_bindings(c.id())) {
    uint64_t client = 0;
    for (int i = 0; i < 8; ++i)
      client = (client << 8) | sid[i];
    sessions.push_back({{"session", hex(sid.data(), sid.size())},
                        {"client", client_id_hex(client)},
                        {"direction", nfs4::state::direction_name(dir)}});
  }
  return {{"id", c.id()},
          {"peer", c.peer()},
          {"local", c.local()},
          {"accepted_at", iso(c.accepted_at())},
          {"last_activity", iso(wall_time(c.last_activity()))},
          {"idle_s", std::chrono::duration<double>(idle).count()},
          {"bytes_in", c.bytes_in()},
          {"bytes_out", c.bytes_out()},
          {"draining", c.draining()},
          {"sessions", sessions}};
}

std::optional<uint64_t> parse_client_id(const std::string& s) {
  if (s.empty() || s.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char ch : s) {
    int d = std::isdigit(static_cast<unsigned char>(ch)) ? ch - '0'
            : (ch >= 'a' && ch <= 'f')                   ? ch - 'a' + 10
            : (ch >= 'A' && ch <= 'F')                   ? ch - 'A' + 10
                                                         : -1;
    if (d < 0) return std::nullopt;
    v = v * 16 + static_cast<uint64_t>(d);
  }
  return v;
}

std::optional<nfs4::SessionId> parse_session_id(const std::string& s) {
  nfs4::SessionId id{};
  if (s.size() != id.size() * 2) return std::nullopt;
  for (size_t i = 0; i < id.size(); ++i) {
    auto v = parse_client_id(s.substr(2 * i, 2));
    if (!v) return std::nullopt;
    id[i] = static_cast<uint8_t>(*v);
  }
  return id;
}

enum class Need { kAnyUser, kReader, kAdmin };

json tokens_json(const Tokens& t) {
  return {{"access_token", t.access},
          {"refresh_token", t.refresh},
          {"token_type", "Bearer"},
          {"expires_in", t.expires_in},
          {"role", t.role}};
}

// Before a request's body is read: refuses bodies the API would not take (too large, of no
// stated length, compressed), so they are never read; the connection then closes, as the
// unread body cannot be told apart from a next request. (Over HTTPS it cannot be closed
// from here: an oversized body is then read and dropped by cpp-httplib.)
httplib::Server::HandlerResponse check_body(const Request& req, Response& res) {
  http_begin_body();
  auto refuse = [&](int status, const std::string& detail) {
    problem(res, status, title_for(status), detail);
    res.set_header("Connection", "close");
    http_close_after_response();
    return httplib::Server::HandlerResponse::Handled;
  };
  const bool has_body_method = req.method == "POST" || req.method == "PUT" ||
                               req.method == "PATCH" || req.method == "DELETE";
  const std::string encoding = req.get_header_value("Content-Encoding");
  if (!encoding.empty() && encoding != "identity") {
    return refuse(415, "compressed request bodies are not accepted");
  }
  if (req.has_header("Transfer-Encoding")) {
    return refuse(411, "send the body with a Content-Length, not chunked");
  }
  if (req.has_header("Content-Length")) {
    const std::string len = req.get_header_value("Content-Length");
    if (len.empty() || len.size() > 19 ||
        !std::all_of(len.begin(), len.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return refuse(400, "Content-Length is not a number");
    }
    // Where the connection cannot be closed (HTTPS), cpp-httplib reads and drops the body
    // (payload_max_length) and answers 413, so the next request is found.
    if (std::stoull(len) > HttpLimits::kMaxBody && http_close_after_response()) {
      return refuse(413, "the request body is larger than " + std::to_string(HttpLimits::kMaxBody) +
                             " bytes");
    }
    // A body where none is read (GET): answer, then close rather than parse it as a request.
    if (!has_body_method && len != "0") http_close_after_response();
  } else if (has_body_method && req.method != "DELETE") {
    return refuse(411, "a Content-Length is required");
  }
  return httplib::Server::HandlerResponse::Unhandled;
}

std::unique_ptr<httplib::Server> make_http_server(const ApiDeps& d) {
  if (d.tls_cert.empty() != d.tls_key.empty()) {
    throw std::runtime_error("api.tls_cert and api.tls_key must be given together");
  }
  if (d.tls_cert.empty()) return std::make_unique<GuardedServer>();
  auto tls = std::make_unique<httplib::SSLServer>(d.tls_cert.c_str(), d.tls_key.c_str());
  if (!tls->is_valid()) {
    throw std::runtime_error("cannot load the API's TLS certificate " + d.tls_cert + " or key " +
                             d.tls_key);
  }
  return tls;
}

}  // namespace

ApiServer::ApiServer(ApiDeps deps) : d_(std::move(deps)), http_(make_http_server(d_)) {
  tls_ = !d_.tls_cert.empty();
  limits();
  routes();
}

void ApiServer::limits() {
  auto& h = *http_;
  h.set_payload_max_length(HttpLimits::kMaxBody);
  h.set_read_timeout(HttpLimits::kReadTimeout);
  h.set_write_timeout(HttpLimits::kWriteTimeout);
  h.set_keep_alive_timeout(HttpLimits::kKeepAlive.count());
  h.set_keep_alive_max_count(HttpLimits::kKeepAliveRequests);
  // Over TLS cpp-httplib reads the connection itself: no turning away when the queue is full
  // (it would shake hands on the accepting thread).
  const size_t queued = tls_ ? 0 : HttpLimits::kMaxQueued;
  h.new_task_queue = [queued] { return new WorkerPool(HttpLimits::kMaxWorkers, queued); };
  h.set_pre_routing_handler(check_body);
  h.set_exception_handler([](const Request& req, Response& res, std::exception_ptr ep) {
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      spdlog::error("API {} {}: {}", req.method, printable(req.path), printable(e.what()));
    } catch (...) {
      spdlog::error("API {} {}: unknown exception", req.method, printable(req.path));
    }
    problem(res, 500, "Internal error", "the request failed; the server log says why");
  });
}

ApiServer::~ApiServer() {
  stop();
}

void ApiServer::start(const std::string& address, uint16_t port) {
  int bound = port == 0 ? http_->bind_to_any_port(address)
                        : (http_->bind_to_port(address, port) ? port : -1);
  if (bound <= 0) {
    throw std::runtime_error("cannot listen for the API on " + address + ":" +
                             std::to_string(port));
  }
  port_ = static_cast<uint16_t>(bound);
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  // httplib's stop() is lost if it comes before the server loop runs (the loop would then
  // block in accept forever), so start() returns only once the loop is running.
  for (int i = 0; i < 5000 && !http_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!http_->is_running()) throw std::runtime_error("the API server did not start");
}

void ApiServer::stop() {
  if (thread_.joinable()) {
    http_->stop();
    thread_.join();
  }
}

void ApiServer::routes() {
  auto& h = *http_;
  // Wraps a handler with authentication and a role check.
  auto guarded = [this](Need need, auto fn) {
    return [this, need, fn](const Request& req, Response& res) {
      const std::string auth = req.get_header_value("Authorization");
      if (auth.rfind("Bearer ", 0) != 0) {
        res.set_header("WWW-Authenticate", "Bearer");
        return problem(res, 401, "Unauthorized", "a bearer token is required");
      }
      auto caller = d_.auth.authenticate(auth.substr(7));
      if (!caller) {
        res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
        return problem(res, 401, "Unauthorized", "the token is invalid or expired");
      }
      if ((need == Need::kAdmin && !caller->is_admin()) ||
          (need == Need::kReader && !caller->can_read())) {
        return problem(res, 403, "Forbidden", "role " + caller->role + " may not do this");
      }
      try {
        fn(req, res, *caller);
      } catch (const std::exception& e) {
        spdlog::error("API {} {}: {}", req.method, printable(req.path), printable(e.what()));
        problem(res, 500, "Internal error", e.what());
      }
    };
  };

  h.Get("/health", [](const Request&, Response& res) { send_json(res, 200, {{"status", "ok"}}); });
  h.Get("/ready", [this](const Request&, Response& res) {
    bool ok = !d_.ready || d_.ready();
    send_json(res, ok ? 200 : 503, {{"status", ok ? "ready" : "starting"}});
  });

  // ---- auth ----
  h.Post("/api/v1/auth/login", [this](const Request& req, Response& res) {
    auto body = parse_body(req, res);
    if (!body) return;
    if (!body->is_object() || !(*body)["username"].is_string() ||
        !(*body)["password"].is_string()) {
      return problem(res, 400, "Bad request", "username and password are required");
    }
    Tokens t;
    int64_t retry = 0;
    switch (d_.auth.login((*body)["username"], (*body)["password"], req.remote_addr, t, retry)) {
      case AuthService::LoginStatus::kOk:
        return send_json(res, 200, tokens_json(t));
      case AuthService::LoginStatus::kThrottled:
        res.set_header("Retry-After", std::to_string(retry));
        return problem(res, 429, "Too many requests",
                       "too many failed logins; retry in " + std::to_string(retry) + " s");
      case AuthService::LoginStatus::kBadCredentials:
        return problem(res, 401, "Unauthorized", "wrong user name or password");
    }
  });
  h.Post("/api/v1/auth/refresh", [this](const Request& req, Response& res) {
    auto body = parse_body(req, res);
    if (!body) return;
    if (!body->is_object() || !(*body)["refresh_token"].is_string()) {
      return problem(res, 400, "Bad request", "refresh_token is required");
    }
    auto t = d_.auth.refresh((*body)["refresh_token"]);
    if (!t) return problem(res, 401, "Unauthorized", "the refresh token is invalid or expired");
    send_json(res, 200, tokens_json(*t));
  });
  // Ends every session of the caller (the user behind the access token, or behind the
  // refresh token in the body): all its tokens stop working.
  h.Post("/api/v1/auth/logout", [this](const Request& req, Response& res) {
    const std::string auth = req.get_header_value("Authorization");
    std::optional<std::string> user;
    if (auth.rfind("Bearer ", 0) == 0) {
      if (auto c = d_.auth.authenticate(auth.substr(7))) user = c->username;
    } else if (!req.body.empty()) {
      auto body = parse_body(req, res);
      if (!body) return;
      if (body->is_object() && (*body)["refresh_token"].is_string()) {
        user = d_.auth.refresh_user((*body)["refresh_token"]);
      }
    }
    if (!user) {
      res.set_header("WWW-Authenticate", "Bearer");
      return problem(res, 401, "Unauthorized",
                     "a valid access token (Authorization) or refresh_token is required");
    }
    d_.auth.revoke_tokens(*user);
    res.status = 204;
  });
  h.Get("/api/v1/auth/stats",
        guarded(Need::kReader, [this](const Request&, Response& res, const Caller&) {
          AuthStats s = d_.auth.stats();
          send_json(res, 200,
                    {{"password_checks", s.password_checks},
                     {"logins_ok", s.logins_ok},
                     {"logins_failed", s.logins_failed},
                     {"logins_throttled", s.logins_throttled},
                     {"tracked_addresses", s.tracked_addresses},
                     {"tracked_pairs", s.tracked_pairs}});
        }));
  h.Get("/api/v1/auth/me",
        guarded(Need::kAnyUser, [](const Request&, Response& res, const Caller& c) {
          json j = {{"username", c.username}, {"role", c.role}};
          j["uid"] = c.uid ? json(*c.uid) : json(nullptr);
          send_json(res, 200, j);
        }));

  // ---- users ----
  h.Get("/api/v1/users",
        guarded(Need::kReader, [this](const Request&, Response& res, const Caller&) {
          json out = json::array();
          for (const auto& u : d_.db.users())
            out.push_back(user_json(u));
          send_json(res, 200, out);
        }));
  h.Get(R"(/api/v1/users/([^/]+))",
        guarded(Need::kReader, [this](const Request& req, Response& res, const Caller&) {
          auto u = d_.db.user(req.matches[1]);
          if (!u) return problem(res, 404, "Not found", "no user named " + req.matches[1].str());
          send_json(res, 200, user_json(*u));
        }));
  h.Post("/api/v1/users",
         guarded(Need::kAdmin, [this](const Request& req, Response& res, const Caller&) {
           auto body = parse_body(req, res);
           if (!body) return;
           if (!body->is_object()) return problem(res, 400, "Bad request", "expected an object");
           UserRecord u;
           try {
             for (const auto& [key, value] : body->items()) {
               if (key == "username") {
                 u.username = value.get<std::string>();
               } else if (key == "password") {
                 u.password_hash = value.get<std::string>();  // hashed below
               } else if (key == "role") {
                 u.role = value.get<std::string>();
               } else if (key == "uid") {
                 if (!value.is_null()) {
                   int64_t uid = value.get<int64_t>();
                   if (uid < 0 || uid > 0xFFFFFFFEll) {
                     return problem(res, 400, "Bad request", "uid must be 0..4294967294", "uid", 0,
                                    4294967294ull);
                   }
                   u.uid = static_cast<uint32_t>(uid);
                 }
               } else {
                 return problem(res, 400, "Bad request", "unknown field " + key, key);
               }
             }
           } catch (const json::exception&) {
             return problem(res, 400, "Bad request", "a field has the wrong type");
           }
           if (u.role.empty()) u.role = "user";
           if (!valid_username(u.username)) {
             return problem(res, 400, "Bad request", "username must match [a-z_][a-z0-9_.-]{0,31}",
                            "username");
           }
           if (!valid_role(u.role)) {
             return problem(res, 400, "Bad request", "role must be admin, operator or user",
                            "role");
           }
           if (u.password_hash.size() < kMinPassword || u.password_hash.size() > kMaxPassword) {
             return problem(res, 400, "Bad request", "password must be 8 to 256 characters",
                            "password", kMinPassword, kMaxPassword);
           }
           u.password_hash = d_.auth.hash(u.password_hash);
           u.created_at = now_rfc3339();
           if (!d_.db.insert_user(u)) {
             return problem(res, 409, "Conflict", "user " + u.username + " exists", "username");
           }
           send_json(res, 201, user_json(u));
         }));
  h.Put(R"(/api/v1/users/([^/]+)/password)",
        guarded(Need::kAnyUser, [this](const Request& req, Response& res, const Caller& c) {
          std::string name = req.matches[1];
          if (!c.is_admin() && c.username != name) {
            return problem(res, 403, "Forbidden", "only admins change other users' passwords");
          }
          auto body = parse_body(req, res);
          if (!body) return;
          if (!body->is_object() || !(*body)["password"].is_string()) {
            return problem(res, 400, "Bad request", "password is required", "password");
          }
          std::string pw = (*body)["password"];
          if (pw.size() < kMinPassword || pw.size() > kMaxPassword) {
            return problem(res, 400, "Bad request", "password must be 8 to 256 characters",
                           "password", kMinPassword, kMaxPassword);
          }
          if (!d_.db.update_password(name, d_.auth.hash(pw))) {
            return problem(res, 404, "Not found", "no user named " + name);
          }
          res.status = 204;
        }));
  h.Patch(R"(/api/v1/users/([^/]+))",
          guarded(Need::kAdmin, [this](const Request& req, Response& res, const Caller&) {
            std::string name = req.matches[1];
            auto body = parse_body(req, res);
            if (!body) return;
            if (!body->is_object()) return problem(res, 400, "Bad request", "expected an object");
            std::optional<std::string> role;
            std::optional<std::optional<uint32_t>> uid;
            try {
              for (const auto& [key, value] : body->items()) {
                if (key == "role") {
                  role = value.get<std::string>();
                  if (!valid_role(*role)) {
                    return problem(res, 400, "Bad request", "role must be admin, operator or user",
                                   "role");
                  }
                } else if (key == "uid") {
                  if (value.is_null()) {
                    uid = std::optional<uint32_t>{};
                  } else {
                    int64_t v = value.get<int64_t>();
                    if (v < 0 || v > 0xFFFFFFFEll) {
                      return problem(res, 400, "Bad request", "uid must be 0..4294967294", "uid", 0,
                                     4294967294ull);
                    }
                    uid = static_cast<uint32_t>(v);
                  }
                } else {
                  return problem(res, 400, "Bad request", "unknown field " + key, key);
                }
              }
            } catch (const json::exception&) {
              return problem(res, 400, "Bad request", "a field has the wrong type");
            }
            if (!d_.db.user(name)) return problem(res, 404, "Not found", "no user named " + name);
            if (role) {
              switch (d_.db.update_role(name, *role)) {
                case ControlDb::RoleChange::kNoUser:
                  return problem(res, 404, "Not found", "no user named " + name);
                case ControlDb::RoleChange::kLastAdmin:
                  return problem(res, 409, "Conflict", "the last admin keeps its role", "role");
                case ControlDb::RoleChange::kChanged:
                  spdlog::info("user {} is now {}; its tokens are revoked", name, *role);
                  break;
                case ControlDb::RoleChange::kUnchanged:
                  break;
              }
            }
            if (uid && !d_.db.update_uid(name, *uid)) {
              return problem(res, 404, "Not found", "no user named " + name);
            }
            auto u = d_.db.user(name);
            if (!u) return problem(res, 404, "Not found", "no user named " + name);
            send_json(res, 200, user_json(*u));
          }));
  h.Delete(R"(/api/v1/users/([^/]+))",
           guarded(Need::kAdmin, [this](const Request& req, Response& res, const Caller&) {
             std::string name = req.matches[1];
             auto u = d_.db.user(name);
             if (!u) return problem(res, 404, "Not found", "no user named " + name);
             if (u->role == "admin" && d_.db.count_role("admin") <= 1) {
               return problem(res, 409, "Conflict", "the last admin cannot be deleted");
             }
             d_.db.delete_user(name);
             res.status = 204;
           }));

  // ---- shares ----
  h.Get("/api/v1/shares",
        guarded(Need::kReader, [this](const Request&, Response& res, const Caller&) {
          send_json(res, 200, d_.shares.list());
        }));
  h.Get(R"(/api/v1/shares/([^/]+))",
        guarded(Need::kReader, [this](const Request& req, Response& res, const Caller&) {
          auto s = d_.shares.get(req.matches[1]);
          if (!s) return problem(res, 404, "Not found", "no share named " + req.matches[1].str());
          send_json(res, 200, *s);
        }));
  h.Post("/api/v1/shares",
         guarded(Need::kAdmin, [this](const Request& req, Response& res, const Caller&) {
           auto body = parse_body(req, res);
           if (!body) return;
           auto r = d_.shares.create(*body);
           if (auto* e = std::get_if<ApiError>(&r)) return api_error(res, *e);
           send_json(res, 201, std::get<json>(r));
         }));
  h.Patch(R"(/api/v1/shares/([^/]+))",
          guarded(Need::kAdmin, [this](const Request& req, Response& res, const Caller&) {
            auto body = parse_body(req, res);
            if (!body) return;
            auto r = d_.shares.update(req.matches[1], *body);
            if (auto* e = std::get_if<ApiError>(&r)) return api_error(res, *e);
            send_json(res, 200, std::get<json>(r));
          }));
  h.Delete(R"(/api/v1/shares/([^/]+))",
           guarded(Need::kAdmin, [this](const Request& req, Response& res, const Caller&) {
             if (auto e = d_.shares.remove(req.matches[1])) return api_error(res, *e);
             res.status = 204;
           }));

  // ---- named stores: /api/v1/stores/metadata and /api/v1/stores/block ----
  for (StoreKind kind : {StoreKind::kMetadata, StoreKind::kBlock}) {
    const std::string base = std::string("/api/v1/stores/") + to_string(kind);
    // Each store with the shares that keep their data in it.
    auto with_shares = [this, kind](json store) {
      store["shares"] = d_.shares.using_store(kind, store["name"].get<std::string>());
      return store;
    };
    h.Get(base, guarded(Need::kReader,
                        [this, kind, with_shares](const Request&, Response& res, const Caller&) {
                          json out = json::array();
                          for (auto& s : d_.stores.list(kind))
                            out.push_back(with_shares(std::move(s)));
                          send_json(res, 200, out);
                        }));
    h.Get(base + R"(/([^/]+))",
          guarded(Need::kReader, [this, kind, with_shares](const Request& req, Response& res,
                                                           const Caller&) {
            auto s = d_.stores.get(kind, req.matches[1]);
            if (!s) {
              return problem(res, 404, "Not found", no_such_store(kind, req.matches[1].str()));
            }
            send_json(res, 200, with_shares(std::move(*s)));
          }));
    h.Post(base, guarded(Need::kAdmin, [this, kind, with_shares](const Request& req, Response& res,
                                                                 const Caller&) {
             auto body = parse_body(req, res);
             if (!body) return;
             auto r = d_.stores.create(kind, *body);
             if (auto* e = std::get_if<ApiError>(&r)) return api_error(res, *e);
             send_json(res, 201, with_shares(std::get<json>(r)));
           }));
    h.Delete(base + R"(/([^/]+))",
             guarded(Need::kAdmin, [this, kind](const Request& req, Response& res, const Caller&) {
               if (auto e = d_.shares.remove_store(kind, req.matches[1])) {
                 return api_error(res, *e);
               }
               res.status = 204;
             }));
  }

  // ---- NFS adapter settings ----
  const std::string settings = "/api/v1/adapters/nfs/settings";
  h.Get(settings, guarded(Need::kReader, [this](const Request&, Response& res, const Caller&) {
          send_json(res, 200, d_.settings.current());
        }));
  h.Get(settings + "/defaults",
        guarded(Need::kReader, [](const Request&, Response& res, const Caller&) {
          send_json(res, 200, SettingsService::defaults());
        }));
  auto change = [this](bool require_all) {
    return [this, require_all](const Request& req, Response& res, const Caller&) {
      auto body = parse_body(req, res);
      if (!body) return;
      auto out = d_.settings.change(*body, require_all);
      if (out.error) return validation_error(res, *out.error);
      send_json(res, 200, out.body);
    };
  };
  h.Put(settings, guarded(Need::kAdmin, change(true)));
  h.Patch(settings, guarded(Need::kAdmin, change(false)));
  h.Post(settings + "/reset",
         guarded(Need::kAdmin, [this](const Request& req, Response& res, const Caller&) {
           std::optional<std::string> field;
           if (req.has_param("setting")) field = req.get_param_value("setting");
           auto out = d_.settings.reset(field);
           if (out.error) return validation_error(res, *out.error);
           send_json(res, 200, out.body);
         }));

  // ---- clients and sessions ----
  h.Get("/api/v1/clients",
        guarded(Need::kReader, [this](const Request&, Response& res, const Caller&) {
          json out = json::array();
          for (const auto& c : d_.state.clients())
            out.push_back(client_json(c));
          send_json(res, 200, out);
        }));
  auto with_client = [this](auto fn) {
    return [this, fn](const Request& req, Response& res, const Caller& caller) {
      auto id = parse_client_id(req.matches[1]);
      auto c = id ? d_.state.client(*id) : std::nullopt;
      if (!c) return problem(res, 404, "Not found", "no client " + req.matches[1].str());
      fn(req, res, caller, *c);
    };
  };
  h.Get(R"(/api/v1/clients/([0-9a-fA-F]+))",
        guarded(Need::kReader, with_client([](const Request&, Response& res, const Caller&,
                                              const nfs4::state::ClientSummary& c) {
                  send_json(res, 200, client_json(c));
                })));
  h.Delete(R"(/api/v1/clients/([0-9a-fA-F]+))",
           guarded(Need::kAdmin, with_client([this](const Request&, Response& res, const Caller&,
                                                    const nfs4::state::ClientSummary& c) {
                     d_.state.evict_client(c.id);
                     spdlog::info("client {:#x} evicted through the API", c.id);
                     res.status = 204;
                   })));
  h.Get(R"(/api/v1/clients/([0-9a-fA-F]+)/sessions)",
        guarded(Need::kReader, with_client([this](const Request&, Response& res, const Caller&,
                                                  const nfs4::state::ClientSummary& c) {
                  json out = json::array();
                  for (const auto& s : d_.state.sessions(c.id)) {
                    json j = session_json(s);
                    j["backchannel"] = backchannel_json(d_.callbacks.status(s.id));
                    out.push_back(std::move(j));
                  }
                  send_json(res, 200, out);
                })));
  h.Delete(
      R"(/api/v1/clients/([0-9a-fA-F]+)/sessions/([0-9a-fA-F]+))",
      guarded(Need::kAdmin, with_client([this](const Request& req, Response& res, const Caller&,
                                               const nfs4::state::ClientSummary& c) {
                auto sid = parse_session_id(req.matches[2]);
                if (!sid || !d_.state.destroy_session_admin(c.id, *sid)) {
                  return problem(res, 404, "Not found", "no session " + req.matches[2].str());
                }
                res.status = 204;
              })));

  h.Get(R"(/api/v1/clients/([0-9a-fA-F]+)/delegations)",
        guarded(Need::kReader, with_client([this](const Request&, Response& res, const Caller&,
                                                  const nfs4::state::ClientSummary& c) {
                  json out = json::array();
                  for (const auto& d : d_.state.delegations(c.id))
                    out.push_back(delegation_json(d));
                  send_json(res, 200, out);
                })));
  h.Post(R"(/api/v1/clients/([0-9a-fA-F]+)/drain)",
         guarded(Need::kAdmin, with_client([this](const Request&, Response& res, const Caller&,
                                                  const nfs4::state::ClientSummary& c) {
                   // Every connection of the client finishes what it received and closes;
                   // the client's sessions and state stay (it reconnects, §2.10.5).
                   json ids = json::array();
                   for (const auto& conn : d_.state.client_connections(c.id)) {
                     conn->drain();
                     ids.push_back(conn->id());
                   }
                   spdlog::info("client {:#x}: {} connection(s) drained through the API", c.id,
                                ids.size());
                   send_json(res, 202, {{"client", client_id_hex(c.id)}, {"draining", ids}});
                 })));

  // ---- connections ----
  h.Get("/api/v1/connections",
        guarded(Need::kReader, [this](const Request&, Response& res, const Caller&) {
          auto conns = d_.transport.connections();
          std::sort(conns.begin(), conns.end(),
                    [](const auto& a, const auto& b) { return a->id() < b->id(); });
          json out = json::array();
          for (const auto& c : conns)
            out.push_back(connection_json(*c, d_.state));
          send_json(res, 200, out);
        }));
  auto with_connection = [this](auto fn) {
    return [this, fn](const Request& req, Response& res, const Caller& caller) {
      std::shared_ptr<rpc::Connection> c;
      const std::string text = req.matches[1];
      if (text.size() <= 19) c = d_.transport.find(std::stoull(text));
      if (!c) return problem(res, 404, "Not found", "no connection " + text);
      fn(req, res, caller, *c);
    };
  };
  h.Get(R"(/api/v1/connections/([0-9]+))",
        guarded(Need::kReader, with_connection([this](const Request&, Response& res, const Caller&,
                                                      rpc::Connection& c) {
                  send_json(res, 200, connection_json(c, d_.state));
                })));
  h.Post(R"(/api/v1/connections/([0-9]+)/drain)",
         guarded(Need::kAdmin, with_connection([this](const Request&, Response& res, const Caller&,
                                                      rpc::Connection& c) {
                   c.drain();
                   spdlog::info("connection {} from {} drained through the API", c.id(), c.peer());
                   send_json(res, 202, connection_json(c, d_.state));
                 })));

  // ---- grace period after a restart (RFC 8881 §8.4.2) ----
  auto grace_json = [this] {
    auto g = d_.state.grace.status();
    return json{{"in_grace", g.active},
                {"remaining_seconds", g.remaining_seconds},
                {"clients_expected", g.clients_expected},
                {"clients_reclaimed", g.clients_reclaimed}};
  };
  h.Get("/api/v1/grace",
        guarded(Need::kReader, [grace_json](const Request&, Response& res, const Caller&) {
          send_json(res, 200, grace_json());
        }));
  h.Post("/api/v1/grace/end",
         guarded(Need::kAdmin, [this, grace_json](const Request&, Response& res, const Caller&) {
           d_.state.grace.end("ended through the API");
           send_json(res, 200, grace_json());
         }));

  // ---- server ----
  h.Get("/api/v1/server",
        guarded(Need::kReader, [this](const Request&, Response& res, const Caller&) {
          send_json(res, 200, d_.server_info());
        }));

  h.set_error_handler([](const Request&, Response& res) {
    if (res.body.empty()) {
      problem(res, res.status, title_for(res.status), "no such endpoint or method");
    }
  });
}

}  // namespace dfs::control
