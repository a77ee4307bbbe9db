#include "cli/http_client.h"

#include <httplib.h>

#include <cctype>

#include "cli/errors.h"
#include "cli/problem.h"
#include "util/build_info.h"

namespace dfs::cli {
namespace {

constexpr time_t kConnectTimeoutS = 5;
// Generous: evicting a client with much state or a slow server under load still answers.
constexpr time_t kReadTimeoutS = 30;
constexpr const char* kJson = "application/json";

// httplib's own names for its errors ("Connection") mean little to a user.
std::string describe(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection:
      return "could not connect; is dfs running?";
    case httplib::Error::ConnectionTimeout:
      return "connecting timed out";
    case httplib::Error::Read:
      return "no reply (the connection failed while reading)";
    case httplib::Error::Write:
      return "the connection failed while sending";
    case httplib::Error::SSLConnection:
      return "the TLS handshake failed";
    case httplib::Error::SSLServerVerification:
      return "the server's certificate was refused";
    default:
      return httplib::to_string(e);
  }
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<ServerUrl> parse_server_url(std::string_view url) {
  ServerUrl out;
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  out.scheme = lower(url.substr(0, sep));
  if (out.scheme != "http" && out.scheme != "https") return std::nullopt;
  std::string_view rest = url.substr(sep + 3);
  const auto slash = rest.find('/');
  out.authority = std::string(rest.substr(0, slash));
  if (out.authority.empty() || out.authority.find_first_of("?#@ ") != std::string::npos) {
    return std::nullopt;
  }
  if (slash != std::string_view::npos) {
    std::string_view prefix = rest.substr(slash);
    if (prefix.find_first_of("?# ") != std::string_view::npos) return std::nullopt;
    while (!prefix.empty() && prefix.back() == '/')
      prefix.remove_suffix(1);
    out.prefix = std::string(prefix);
  }
  // A port must be digits; a bracketed IPv6 literal keeps its colons inside the brackets.
  const auto bracket = out.authority.rfind(']');
  const auto colon = out.authority.rfind(':');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    const std::string port = out.authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535) {
      return std::nullopt;
    }
    if (colon == 0) return std::nullopt;
  }
  return out;
}

std::string encode_path_segment(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : segment) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

ApiClient::ApiClient(const std::string& server_url) {
  auto parsed = parse_server_url(server_url);
  if (!parsed) {
    throw usage_error("'" + server_url + "' is not a server URL like http://127.0.0.1:8080");
  }
  url_ = *parsed;
  http_ = std::make_unique<httplib::Client>(url_.origin());
  http_->set_connection_timeout(kConnectTimeoutS, 0);
  http_->set_read_timeout(kReadTimeoutS, 0);
  http_->set_write_timeout(kReadTimeoutS, 0);
  // Paths are encoded here segment by segment; httplib's own pass would encode them again.
  http_->set_url_encode(false);
}

ApiClient::~ApiClient() = default;

void ApiClient::set_tokens(std::string access, std::string refresh, TokenSink on_refresh) {
  access_ = std::move(access);
  refresh_ = std::move(refresh);
  on_refresh_ = std::move(on_refresh);
}

HttpResult ApiClient::once(const std::string& method, const std::string& path,
                           const std::string& body, bool authenticated) {
  httplib::Request req;
  req.method = method;
  req.path = url_.prefix + path;
  req.set_header("Accept", "application/json, application/problem+json");
  req.set_header("User-Agent", std::string("dfsctl/") + build::kVersion);
  if (authenticated) req.set_header("Authorization", "Bearer " + access_);
  if (!body.empty()) {
    req.set_header("Content-Type", kJson);
    req.body = body;
  }
  auto res = http_->send(req);
  if (!res) {
    throw CliError(kExitUnreachable,
                   "cannot reach the server at " + url_.str() + ": " + describe(res.error()));
  }
  return {res->status, res->body};
}

bool ApiClient::refresh() {
  if (refresh_.empty() || refreshed_) return false;
  refreshed_ = true;
  const std::string body = nlohmann::json{{"refresh_token", refresh_}}.dump();
  HttpResult r = once("POST", "/api/v1/auth/refresh", body, false);
  if (r.status != 200) return false;
  auto doc = nlohmann::json::parse(r.body, nullptr, false);
  if (!doc.is_object() || !doc.value("access_token", nlohmann::json()).is_string() ||
      !doc.value("refresh_token", nlohmann::json()).is_string()) {
    return false;
  }
  access_ = doc["access_token"].get<std::string>();
  refresh_ = doc["refresh_token"].get<std::string>();
  if (on_refresh_) on_refresh_(access_, refresh_);
  return true;
}

HttpResult ApiClient::send(const std::string& method, const std::string& path,
                           const std::string& body, bool authenticated) {
  HttpResult r = once(method, path, body, authenticated);
  if (r.status == 401 && authenticated) {
    if (refresh()) return once(method, path, body, authenticated);
    if (refreshed_) {
      throw CliError(kExitApi, "your session has expired; run `dfsctl login` again");
    }
    throw CliError(kExitApi, format_problem(r.status, r.body) + "; run `dfsctl login`");
  }
  return r;
}

nlohmann::json ApiClient::call(const std::string& method, const std::string& path,
                               const std::optional<nlohmann::json>& body, bool authenticated) {
  HttpResult r = send(method, path, body ? body->dump() : std::string(), authenticated);
  if (r.status < 200 || r.status > 299) throw CliError(kExitApi, format_problem(r.status, r.body));
  if (r.body.empty()) return nullptr;
  auto doc = nlohmann::json::parse(r.body, nullptr, false);
  if (doc.is_discarded()) {
    throw CliError(kExitApi, "the server at " + url_.str() + " sent a reply that is not JSON");
  }
  return doc;
}

}  // namespace dfs::cli
