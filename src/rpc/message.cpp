#include "rpc/message.h"

namespace dfs::rpc {
namespace {

bool decode_opaque_auth(xdr::Decoder& d, OpaqueAuth& a) {
  uint32_t flavor = 0;
  d.u32(flavor);
  a.flavor = static_cast<AuthFlavor>(flavor);
  return d.view(a.body, kMaxAuthBytes);
}

void encode_null_verifier(xdr::Encoder& e) {
  e.u32(static_cast<uint32_t>(AuthFlavor::kNone));
  e.u32(0);
}

void encode_reply_start(xdr::Encoder& e, uint32_t xid, ReplyStat stat) {
  e.u32(xid);
  e.u32(static_cast<uint32_t>(MsgType::kReply));
  e.u32(static_cast<uint32_t>(stat));
}

}  // namespace

bool decode_xid_and_type(xdr::Decoder& d, uint32_t& xid, MsgType& type) {
  uint32_t t = 0;
  if (!d.u32(xid) || !d.u32(t)) return false;
  if (t > 1) {
    d.fail();
    return false;
  }
  type = static_cast<MsgType>(t);
  return true;
}

bool decode_call_body_header(xdr::Decoder& d, CallHeader& h) {
  d.u32(h.rpc_version);
  d.u32(h.program);
  d.u32(h.version);
  d.u32(h.procedure);
  decode_opaque_auth(d, h.cred);
  decode_opaque_auth(d, h.verf);
  return d.ok();
}

void encode_call_header(xdr::Encoder& e, const CallHeader& h) {
  e.u32(h.xid);
  e.u32(static_cast<uint32_t>(MsgType::kCall));
  e.u32(h.rpc_version);
  e.u32(h.program);
  e.u32(h.version);
  e.u32(h.procedure);
  e.u32(static_cast<uint32_t>(h.cred.flavor));
  e.bytes(h.cred.body);
  e.u32(static_cast<uint32_t>(h.verf.flavor));
  e.bytes(h.verf.body);
}

void encode_accepted_reply(xdr::Encoder& e, uint32_t xid, AcceptStat stat) {
  encode_reply_start(e, xid, ReplyStat::kAccepted);
  encode_null_verifier(e);
  e.u32(static_cast<uint32_t>(stat));
}

void encode_prog_mismatch(xdr::Encoder& e, uint32_t xid, uint32_t low, uint32_t high) {
  encode_accepted_reply(e, xid, AcceptStat::kProgMismatch);
  e.u32(low);
  e.u32(high);
}

void encode_rpc_mismatch(xdr::Encoder& e, uint32_t xid) {
  encode_reply_start(e, xid, ReplyStat::kDenied);
  e.u32(static_cast<uint32_t>(RejectStat::kRpcMismatch));
  e.u32(kRpcVersion);
  e.u32(kRpcVersion);
}

void encode_auth_error(xdr::Encoder& e, uint32_t xid, AuthStat stat) {
  encode_reply_start(e, xid, ReplyStat::kDenied);
  e.u32(static_cast<uint32_t>(RejectStat::kAuthError));
  e.u32(static_cast<uint32_t>(stat));
}

bool decode_reply_header(xdr::Decoder& d, ReplyHeader& h) {
  uint32_t v = 0;
  d.u32(v);
  h.stat = static_cast<ReplyStat>(v);
  if (h.stat == ReplyStat::kAccepted) {
    OpaqueAuth verf;
    decode_opaque_auth(d, verf);
    d.u32(v);
    h.accept = static_cast<AcceptStat>(v);
    if (h.accept == AcceptStat::kProgMismatch) {
      d.u32(h.mismatch_low);
      d.u32(h.mismatch_high);
    }
  } else if (h.stat == ReplyStat::kDenied) {
    d.u32(v);
    h.reject = static_cast<RejectStat>(v);
    if (h.reject == RejectStat::kRpcMismatch) {
      d.u32(h.mismatch_low);
      d.u32(h.mismatch_high);
    } else {
      d.u32(v);
      h.auth = static_cast<AuthStat>(v);
    }
  } else {
    d.fail();
  }
  return d.ok();
}

}  // namespace dfs::rpc
