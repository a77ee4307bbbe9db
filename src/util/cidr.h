#pragma once
// Host access lists: an address or a CIDR block (IPv4 or IPv6), matched against a peer
// address. IPv4-mapped IPv6 peers (::ffff:a.b.c.d) match IPv4 rules.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dfs::util {

struct Cidr {
  std::array<uint8_t, 16> addr{};  // IPv4 stored as IPv4-mapped IPv6
  unsigned prefix = 128;

  // "10.0.0.0/8", "192.168.1.5", "::1", "fd00::/8"; nullopt if malformed.
  static std::optional<Cidr> parse(std::string_view text);
  bool contains(const std::array<uint8_t, 16>& ip) const;
};

// Parses an address ("127.0.0.1", "::1"), or a peer as the transport prints it
// ("127.0.0.1:5000", "[::1]:5000").
std::optional<std::array<uint8_t, 16>> parse_address(std::string_view text);

}  // namespace dfs::util
