#pragma once
// RPC message headers (RFC 5531 §9): decoding calls and replies, encoding both. The body
// (procedure arguments or results) follows the header in the same record.

#include <cstdint>
#include <span>

#include "rpc/auth.h"
#include "rpc/constants.h"
#include "xdr/decoder.h"
#include "xdr/encoder.h"

namespace dfs::rpc {

struct CallHeader {
  uint32_t xid = 0;
  uint32_t rpc_version = 0;
  uint32_t program = 0;
  uint32_t version = 0;
  uint32_t procedure = 0;
  OpaqueAuth cred;
  OpaqueAuth verf;
};

// Reads xid and message type; the first thing done with any record.
bool decode_xid_and_type(xdr::Decoder& d, uint32_t& xid, MsgType& type);
// Reads the rest of a call header (after xid and type).
bool decode_call_body_header(xdr::Decoder& d, CallHeader& out);

void encode_call_header(xdr::Encoder& e, const CallHeader& h);

// Accepted reply header up to and including accept_stat; SUCCESS results follow it.
void encode_accepted_reply(xdr::Encoder& e, uint32_t xid, AcceptStat stat);
// PROG_MISMATCH carries the supported version range.
void encode_prog_mismatch(xdr::Encoder& e, uint32_t xid, uint32_t low, uint32_t high);
void encode_rpc_mismatch(xdr::Encoder& e, uint32_t xid);
void encode_auth_error(xdr::Encoder& e, uint32_t xid, AuthStat stat);

// What a reply header says (client side, after xid and type were read).
struct ReplyHeader {
  ReplyStat stat = ReplyStat::kAccepted;
  AcceptStat accept = AcceptStat::kSuccess;
  RejectStat reject = RejectStat::kRpcMismatch;
  AuthStat auth = AuthStat::kOk;
  uint32_t mismatch_low = 0;
  uint32_t mismatch_high = 0;
};
bool decode_reply_header(xdr::Decoder& d, ReplyHeader& out);

}  // namespace dfs::rpc
