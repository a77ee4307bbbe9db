#include "rpc/auth.h"

#include <algorithm>

#include "xdr/xdr.h"

namespace dfs::rpc {
namespace {

constexpr uint32_t kMaxMachineName = 255;   // RFC 5531 appendix A: string machinename<255>
constexpr uint32_t kMaxAuthSysGroups = 16;  // RFC 5531 appendix A: unsigned int gids<16>

}  // namespace

bool Credentials::in_group(uint32_t g) const {
  return gid == g || std::find(groups.begin(), groups.end(), g) != groups.end();
}

AuthStat authenticate(const OpaqueAuth& cred, const OpaqueAuth& verf, Credentials& out) {
  // Verifiers for AUTH_NONE and AUTH_SYS carry nothing we check, but must be well-formed.
  if (verf.flavor != AuthFlavor::kNone && verf.flavor != AuthFlavor::kSys) {
    return AuthStat::kBadVerf;
  }
  switch (cred.flavor) {
    case AuthFlavor::kNone:
      out = Credentials{};
      out.flavor = AuthFlavor::kNone;
      return AuthStat::kOk;
    case AuthFlavor::kSys: {
      xdr::Decoder d(cred.body);
      uint32_t stamp = 0, ngroups = 0;
      Credentials c;
      c.flavor = AuthFlavor::kSys;
      d.u32(stamp);
      d.string(c.machine_name, kMaxMachineName);
      d.u32(c.uid);
      d.u32(c.gid);
      if (!d.count(ngroups, 4, kMaxAuthSysGroups)) return AuthStat::kBadCred;
      c.groups.resize(ngroups);
      for (auto& g : c.groups)
        d.u32(g);
      if (!d.ok() || d.remaining() != 0) return AuthStat::kBadCred;
      out = std::move(c);
      return AuthStat::kOk;
    }
    default:
      return AuthStat::kBadCred;
  }
}

std::vector<uint8_t> encode_auth_sys(uint32_t stamp, const std::string& machine, uint32_t uid,
                                     uint32_t gid, const std::vector<uint32_t>& groups) {
  xdr::ByteBuffer buf;
  xdr::Encoder e(buf);
  e.u32(stamp);
  e.string(machine);
  e.u32(uid);
  e.u32(gid);
  e.u32(static_cast<uint32_t>(groups.size()));
  for (uint32_t g : groups)
    e.u32(g);
  return {buf.data(), buf.data() + buf.size()};
}

}  // namespace dfs::rpc
