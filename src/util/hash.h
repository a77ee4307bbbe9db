#pragma once
// A fast 64-bit hash of a byte range, for telling a retried request from a different one
// (not for security). Processes 8 bytes per step so hashing a 1 MiB WRITE stays cheap.

#include <cstdint>
#include <cstring>
#include <span>

namespace dfs::util {

inline uint64_t hash_bytes(std::span<const uint8_t> data) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h = 0xCBF29CE484222325ull ^ (data.size() * kMul);
  const uint8_t* p = data.data();
  size_t n = data.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  h = (h ^ tail) * kMul;
  h ^= h >> 32;
  return h;
}

}  // namespace dfs::util
