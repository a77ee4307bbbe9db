#pragma once
// JSON Web Tokens (RFC 7519) signed with HMAC-SHA256 (HS256, RFC 7518 §3.2), the HMAC from
// libsodium. Only what the control plane needs: sign a claim set, verify signature and
// expiry.

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace dfs::control {

class JwtSigner {
 public:
  explicit JwtSigner(std::string secret);

  std::string sign(const nlohmann::json& claims) const;
  // The claims if the signature is valid and "exp" (seconds since the epoch) is in the
  // future; nullopt otherwise.
  std::optional<nlohmann::json> verify(
      const std::string& token,
      std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;

 private:
  std::string mac(const std::string& data) const;
  std::string secret_;
};

std::string base64url_encode(const std::string& in);
std::optional<std::string> base64url_decode(const std::string& in);

}  // namespace dfs::control
