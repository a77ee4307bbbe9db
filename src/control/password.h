#pragma once
// Password hashing for control-plane users: argon2id through libsodium's crypto_pwhash_str
// (salt and parameters are encoded in the stored string). No home-made crypto.

#include <string>

namespace dfs::control {

// Cost parameters; tests lower the memory cost to stay fast, production uses libsodium's
// "interactive" argon2id limits.
struct PasswordCost {
  unsigned long long opslimit;
  size_t memlimit;
  static PasswordCost interactive();
  static PasswordCost minimal();  // for tests only
};

// Throws std::runtime_error if libsodium cannot hash (out of memory).
std::string hash_password(const std::string& password, const PasswordCost& cost);
bool verify_password(const std::string& hash, const std::string& password);

// `n` random bytes as URL-safe text (for generated passwords and secrets).
std::string random_token(size_t n);

}  // namespace dfs::control
