#include "util/cidr.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>

namespace dfs::util {

std::optional<std::array<uint8_t, 16>> parse_address(std::string_view text) {
  std::string host(text);
  if (!host.empty() && host.front() == '[') {  // "[v6]:port"
    auto close = host.find(']');
    if (close == std::string::npos) return std::nullopt;
    host = host.substr(1, close - 1);
  } else if (std::count(host.begin(), host.end(), ':') == 1) {  // "v4:port"
    host = host.substr(0, host.find(':'));
  }
  std::array<uint8_t, 16> out{};
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return out;
  }
  return std::nullopt;
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
  Cidr c;
  std::string_view host = text;
  std::optional<unsigned> prefix;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    host = text.substr(0, slash);
    auto p = text.substr(slash + 1);
    unsigned v = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (ec != std::errc() || end != p.data() + p.size() || p.empty()) return std::nullopt;
    prefix = v;
  }
  std::string h(host);
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    if (prefix && *prefix > 32) return std::nullopt;
    c.addr[10] = c.addr[11] = 0xff;
    std::memcpy(c.addr.data() + 12, &v4, 4);
    c.prefix = 96 + prefix.value_or(32);
  } else if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (prefix && *prefix > 128) return std::nullopt;
    std::memcpy(c.addr.data(), &v6, 16);
    c.prefix = prefix.value_or(128);
  } else {
    return std::nullopt;
  }
  return c;
}

bool Cidr::contains(const std::array<uint8_t, 16>& ip) const {
  unsigned full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(addr.data(), ip.data(), full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (addr[full] & mask) == (ip[full] & mask);
}

}  // namespace dfs::util
