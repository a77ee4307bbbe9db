// What a REST API client sends (docs/api.md): JSON bodies for logins, tokens, users, shares
// and the NFS settings, bearer tokens, and names and ids in paths, sent over HTTP to a real
// dfs in this process (rest_client.h), through the same parsing, guards, handlers, services
// and control database as in production.
//
// Asserted: every request gets an answer, never a 5xx (an exception escaping a handler, a
// failure the API did not expect), and every refusal is a problem+json document. Whatever an
// input created or changed is undone after it (users and shares deleted, settings reset), so
// an input does the same thing whenever it runs.
//
// Input: byte 0 picks the endpoint; the rest is the body (or the token, or the path part).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_check.h"
#include "null_log.h"
#include "rest_client.h"

namespace {

using dfs::fuzz::path_segment;
using dfs::fuzz::RestApi;
using nlohmann::json;
using As = RestApi::As;

const std::string kSettings = "/api/v1/adapters/nfs/settings";
const std::string kFuzzUserPath = std::string("/api/v1/users/") + RestApi::kFuzzUser;

RestApi& api() {
  // Never destroyed: the daemon is stopped at exit, before the loggers it uses are gone
  // (rest_client.cpp).
  static RestApi* a = [] {
    dfs::fuzz::log_to_nowhere();
    return new RestApi();
  }();
  return *a;
}

// Bytes without control characters and spaces (a header value cannot hold them).
std::string token_text(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c > 0x20 && c < 0x7f) out += static_cast<char>(c);
  }
  return out;
}

void check(const RestApi::Reply& r) {
  if (r.status >= 500 || (r.status >= 400 && r.content_type != "application/problem+json")) {
    std::fprintf(stderr, "HTTP %d (%s): %s\n", r.status, r.content_type.c_str(), r.body.c_str());
  }
  FUZZ_CHECK(r.answered);
  FUZZ_CHECK(r.status >= 200 && r.status < 500);
  if (r.status >= 400) {
    FUZZ_CHECK(r.content_type == "application/problem+json");
    const json p = json::parse(r.body, nullptr, false);
    FUZZ_CHECK(p.is_object() && p.contains("status") && p["status"] == r.status);
  }
}

// Undoes what a successful request created or changed.
void undo(uint8_t endpoint, const RestApi::Reply& r) {
  if (r.status >= 300) return;
  RestApi& a = api();
  const json body = json::parse(r.body, nullptr, false);
  switch (endpoint) {
    case 3:  // a user was created
      if (body.is_object() && body["username"].is_string()) {
        const std::string name = body["username"];
        check(a.send("DELETE", "/api/v1/users/" + path_segment(name), "", As::kAdmin));
      }
      break;
    case 4:  // fuzzuser was changed
      check(
          a.send("PATCH", kFuzzUserPath, json{{"role", "user"}, {"uid", 1000}}.dump(), As::kAdmin));
      break;
    case 6:  // a share was created
      if (body.is_object() && body["name"].is_string()) {
        const std::string name = body["name"];
        check(a.send("DELETE", "/api/v1/shares/" + path_segment(name), "", As::kAdmin));
      }
      break;
    case 7:
    case 8:
    case 12:  // settings changed
      check(a.send("POST", kSettings + "/reset", "", As::kAdmin));
      break;
    default:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  RestApi& a = api();
  const uint8_t endpoint = data[0] % 14;
  const std::string in(reinterpret_cast<const char*>(data + 1), size - 1);
  RestApi::Reply r;
  switch (endpoint) {
    case 0:
      r = a.send("POST", "/api/v1/auth/login", in, As::kNobody);
      break;
    case 1:
      r = a.send("POST", "/api/v1/auth/refresh", in, As::kNobody);
      break;
    case 2:
      r = a.send("POST", "/api/v1/auth/logout", in, As::kNobody);
      break;
    case 3:
      r = a.send("POST", "/api/v1/users", in, As::kAdmin);
      break;
    case 4:
      r = a.send("PATCH", kFuzzUserPath, in, As::kAdmin);
      break;
    case 5:
      r = a.send("PUT", kFuzzUserPath + "/password", in, As::kAdmin);
      break;
    case 6:
      r = a.send("POST", "/api/v1/shares", in, As::kAdmin);
      break;
    case 7:
      r = a.send("PUT", kSettings, in, As::kAdmin);
      break;
    case 8:
      r = a.send("PATCH", kSettings, in, As::kAdmin);
      break;
    case 9:
      r = a.send_with_token("GET", "/api/v1/auth/me", token_text(in));
      break;
    case 10:
      r = a.send("GET", "/api/v1/users/" + path_segment(in), "", As::kAdmin);
      break;
    case 11:
      r = a.send("GET", "/api/v1/clients/" + path_segment(in) + "/sessions", "", As::kAdmin);
      break;
    case 12:
      r = a.send("POST", kSettings + "/reset?setting=" + path_segment(in), "", As::kAdmin);
      break;
    default:
      r = a.send("GET", "/api/v1/connections/" + path_segment(in), "", As::kAdmin);
      break;
  }
  check(r);
  undo(endpoint, r);
  return 0;
}
