#pragma once
// Caller identity from the RPC credential (RFC 5531 §8.2 AUTH_NONE, appendix A AUTH_SYS).

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "rpc/constants.h"

namespace dfs::rpc {

// Who is calling, as the file model sees it. AUTH_NONE callers are mapped to nobody.
struct Credentials {
  static constexpr uint32_t kNobody = 65534;

  AuthFlavor flavor = AuthFlavor::kNone;
  uint32_t uid = kNobody;
  uint32_t gid = kNobody;
  std::vector<uint32_t> groups;
  std::string machine_name;

  bool is_root() const { return uid == 0; }
  bool in_group(uint32_t g) const;
};

// The opaque_auth structure as it travels.
struct OpaqueAuth {
  AuthFlavor flavor = AuthFlavor::kNone;
  std::span<const uint8_t> body;
};

// Turns a call's credential into Credentials, or says why it is refused.
AuthStat authenticate(const OpaqueAuth& cred, const OpaqueAuth& verf, Credentials& out);

// Encodes an AUTH_SYS credential body (for the project's own clients).
std::vector<uint8_t> encode_auth_sys(uint32_t stamp, const std::string& machine, uint32_t uid,
                                     uint32_t gid, const std::vector<uint32_t>& groups);

}  // namespace dfs::rpc
