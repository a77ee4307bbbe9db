#pragma once
// The REST API as dfsctl sees it: one HTTP client that adds the bearer token, swaps an
// expired access token for a new one (once) with the refresh token, and turns every failure
// into a CliError with the right exit code and a one-line message.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace httplib {
class Client;
}

namespace dfs::cli {

struct ServerUrl {
  std::string scheme;     // http or https
  std::string authority;  // host[:port], as given
  std::string prefix;     // path before /api/v1, without a trailing slash ("" usually)
  std::string origin() const { return scheme + "://" + authority; }
  std::string str() const { return origin() + prefix; }
};

// Accepts http://host[:port][/prefix] and https://...; nothing for anything else.
std::optional<ServerUrl> parse_server_url(std::string_view url);

// Percent-encodes everything outside RFC 3986's unreserved set, so a name can never add a
// path segment or a query to the request.
std::string encode_path_segment(std::string_view segment);

struct HttpResult {
  int status = 0;
  std::string body;
};

class ApiClient {
 public:
  // Receives the new token pair after a refresh so it can be saved for the next run.
  using TokenSink = std::function<void(const std::string& access, const std::string& refresh)>;

  // Throws a usage CliError when the URL is not one parse_server_url accepts.
  explicit ApiClient(const std::string& server_url);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  void set_tokens(std::string access, std::string refresh, TokenSink on_refresh);
  const ServerUrl& server() const { return url_; }

  // Sends one request and returns whatever status came back; throws only when the server
  // cannot be reached (exit code 3). With `authenticated`, a 401 is answered by one refresh
  // and one retry.
  HttpResult send(const std::string& method, const std::string& path, const std::string& body,
                  bool authenticated);

  // Like send() but every status outside 2xx becomes a CliError carrying the problem line.
  // Returns the parsed body, or null for an empty one (204).
  nlohmann::json call(const std::string& method, const std::string& path,
                      const std::optional<nlohmann::json>& body = std::nullopt,
                      bool authenticated = true);

 private:
  HttpResult once(const std::string& method, const std::string& path, const std::string& body,
                  bool authenticated);
  bool refresh();

  ServerUrl url_;
  std::unique_ptr<httplib::Client> http_;
  std::string access_;
  std::string refresh_;
  TokenSink on_refresh_;
  bool refreshed_ = false;
};

}  // namespace dfs::cli
