#include "control/jwt.h"

#include <sodium.h>

#include <cstring>
#include <stdexcept>

namespace dfs::control {

std::string base64url_encode(const std::string& in) {
  std::string out(sodium_base64_ENCODED_LEN(in.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(in.data()),
                    in.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::optional<std::string> base64url_decode(const std::string& in) {
  std::string out(in.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), in.data(),
                        in.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

JwtSigner::JwtSigner(std::string secret) : secret_(std::move(secret)) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  if (secret_.size() < 32) throw std::runtime_error("JWT secret shorter than 32 bytes");
}

std::string JwtSigner::mac(const std::string& data) const {
  unsigned char out[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(secret_.data()),
                              secret_.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(data.data()),
                                data.size());
  crypto_auth_hmacsha256_final(&st, out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

std::string JwtSigner::sign(const nlohmann::json& claims) const {
  static const std::string header = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
  std::string signing_input = header + "." + base64url_encode(claims.dump());
  return signing_input + "." + base64url_encode(mac(signing_input));
}

std::optional<nlohmann::json> JwtSigner::verify(const std::string& token,
                                                std::chrono::system_clock::time_point now) const {
  auto dot1 = token.find('.');
  auto dot2 = token.rfind('.');
  if (dot1 == std::string::npos || dot2 == dot1) return std::nullopt;
  std::string signing_input = token.substr(0, dot2);
  auto sig = base64url_decode(token.substr(dot2 + 1));
  std::string expected = mac(signing_input);
  // Constant-time comparison: no timing hints about the signature.
  if (!sig || sig->size() != expected.size() ||
      sodium_memcmp(sig->data(), expected.data(), expected.size()) != 0) {
    return std::nullopt;
  }
  auto header = base64url_decode(token.substr(0, dot1));
  auto payload = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!header || !payload) return std::nullopt;
  auto h = nlohmann::json::parse(*header, nullptr, false);
  if (h.is_discarded() || !h.is_object() || h.value("alg", "") != "HS256") return std::nullopt;
  auto claims = nlohmann::json::parse(*payload, nullptr, false);
  if (claims.is_discarded() || !claims.is_object() || !claims.contains("exp") ||
      !claims["exp"].is_number_integer()) {
    return std::nullopt;
  }
  auto now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (claims["exp"].get<int64_t>() <= now_s) return std::nullopt;
  return claims;
}

}  // namespace dfs::control
