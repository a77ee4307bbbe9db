#pragma once
// ONC RPC version 2 constants (RFC 5531 §9 and appendix).

#include <cstdint>

namespace dfs::rpc {

inline constexpr uint32_t kRpcVersion = 2;
inline constexpr uint32_t kMaxAuthBytes = 400;  // RFC 5531 §8.2: opaque body<400>

enum class MsgType : uint32_t { kCall = 0, kReply = 1 };
enum class ReplyStat : uint32_t { kAccepted = 0, kDenied = 1 };

enum class AcceptStat : uint32_t {
  kSuccess = 0,
  kProgUnavail = 1,
  kProgMismatch = 2,
  kProcUnavail = 3,
  kGarbageArgs = 4,
  kSystemErr = 5,
};

enum class RejectStat : uint32_t { kRpcMismatch = 0, kAuthError = 1 };

enum class AuthFlavor : uint32_t {
  kNone = 0,
  kSys = 1,
  kShort = 2,
  kDh = 3,
  kRpcsecGss = 6,
};

enum class AuthStat : uint32_t {
  kOk = 0,
  kBadCred = 1,
  kRejectedCred = 2,
  kBadVerf = 3,
  kRejectedVerf = 4,
  kTooWeak = 5,
  kInvalidResp = 6,
  kFailed = 7,
};

}  // namespace dfs::rpc
