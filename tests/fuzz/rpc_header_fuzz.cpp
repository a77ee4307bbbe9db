// The RPC message header and credentials (RFC 5531 §9, §8.2, appendix A): a record as a
// client sends it, read by the decoders (rpc/message.h, rpc/auth.h) and by the dispatcher
// that answers it (rpc/dispatcher.h) over a loopback connection (loopback.h).
//
// Asserted: a call header or an AUTH_SYS credential that decodes encodes back to what was
// decoded; and the dispatcher answers every call exactly once, with the call's xid and the
// reply RFC 5531 prescribes for it (computed here apart from the dispatcher), sends nothing
// for a reply, and closes the connection on a record it cannot read at all.
//
// Input: one RPC record (after record marking).

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "fuzz_check.h"
#include "loopback.h"
#include "null_log.h"
#include "rpc/auth.h"
#include "rpc/dispatcher.h"
#include "rpc/message.h"

namespace {

using namespace dfs;
using namespace dfs::rpc;

constexpr uint32_t kTestProgram = 0x20000000;
constexpr uint32_t kProcEcho = 1;     // results: the arguments
constexpr uint32_t kProcGarbage = 2;  // refuses its arguments

// A program with versions 2..3 whose procedures are easy to predict.
class TestProgram : public Program {
 public:
  uint32_t number() const override { return kTestProgram; }
  uint32_t min_version() const override { return 2; }
  uint32_t max_version() const override { return 3; }
  AcceptStat call(CallContext& ctx, xdr::Decoder& args, xdr::Encoder& results) override {
    if (ctx.procedure == kProcEcho) {
      const auto rest = args.rest();
      results.buffer().append(rest.data(), rest.size());
      return AcceptStat::kSuccess;
    }
    if (ctx.procedure == kProcGarbage) return AcceptStat::kGarbageArgs;
    return AcceptStat::kProcUnavail;
  }
};

bool same_bytes(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

void check_codecs(const CallHeader& h) {
  xdr::ByteBuffer buf;
  xdr::Encoder e(buf);
  encode_call_header(e, h);
  xdr::Decoder d(buf.span());
  uint32_t xid = 0;
  MsgType type{};
  CallHeader again;
  FUZZ_CHECK(decode_xid_and_type(d, xid, type) && type == MsgType::kCall && xid == h.xid);
  FUZZ_CHECK(decode_call_body_header(d, again) && d.remaining() == 0);
  FUZZ_CHECK(again.rpc_version == h.rpc_version && again.program == h.program &&
             again.version == h.version && again.procedure == h.procedure);
  FUZZ_CHECK(again.cred.flavor == h.cred.flavor && same_bytes(again.cred.body, h.cred.body));
  FUZZ_CHECK(again.verf.flavor == h.verf.flavor && same_bytes(again.verf.body, h.verf.body));

  Credentials c;
  if (authenticate(h.cred, h.verf, c) != AuthStat::kOk || c.flavor != AuthFlavor::kSys) return;
  FUZZ_CHECK(c.machine_name.size() <= 255 && c.groups.size() <= 16);
  const auto body = encode_auth_sys(0, c.machine_name, c.uid, c.gid, c.groups);
  OpaqueAuth cred{AuthFlavor::kSys, body};
  Credentials c2;
  FUZZ_CHECK(authenticate(cred, h.verf, c2) == AuthStat::kOk);
  FUZZ_CHECK(c2.uid == c.uid && c2.gid == c.gid && c2.groups == c.groups &&
             c2.machine_name == c.machine_name);
}

// The reply RFC 5531 prescribes for a call with this header, as the dispatcher's programs are
// set up here.
struct Expected {
  ReplyStat stat = ReplyStat::kAccepted;
  AcceptStat accept = AcceptStat::kSuccess;
  RejectStat reject = RejectStat::kRpcMismatch;
  AuthStat auth = AuthStat::kOk;
};
Expected expected(bool header_ok, const CallHeader& h) {
  Expected x;
  if (!header_ok) {
    x.accept = AcceptStat::kGarbageArgs;
    return x;
  }
  if (h.rpc_version != kRpcVersion) {
    x.stat = ReplyStat::kDenied;
    x.reject = RejectStat::kRpcMismatch;
    return x;
  }
  Credentials c;
  if (AuthStat st = authenticate(h.cred, h.verf, c); st != AuthStat::kOk) {
    x.stat = ReplyStat::kDenied;
    x.reject = RejectStat::kAuthError;
    x.auth = st;
    return x;
  }
  if (h.program != kTestProgram) {
    x.accept = AcceptStat::kProgUnavail;
  } else if (h.version < 2 || h.version > 3) {
    x.accept = AcceptStat::kProgMismatch;
  } else if (h.procedure == 0 || h.procedure == kProcEcho) {
    x.accept = AcceptStat::kSuccess;
  } else if (h.procedure == kProcGarbage) {
    x.accept = AcceptStat::kGarbageArgs;
  } else {
    x.accept = AcceptStat::kProcUnavail;
  }
  return x;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::log_to_nowhere();
  const std::span<const uint8_t> record(data, size);
  xdr::Decoder d(record);
  uint32_t xid = 0;
  MsgType type{};
  const bool head_ok = decode_xid_and_type(d, xid, type);
  CallHeader h;
  h.xid = xid;
  bool call_ok = false;
  if (head_ok && type == MsgType::kCall) {
    call_ok = decode_call_body_header(d, h);
    if (call_ok) check_codecs(h);
  } else if (head_ok) {
    ReplyHeader rh;
    decode_reply_header(d, rh);  // what the server reads in answers to its callbacks
  }

  Dispatcher dispatcher;
  dispatcher.add_program(std::make_shared<TestProgram>());
  dispatcher.place(record, size);
  fuzz::Loopback loop(dispatcher);
  dispatcher.on_record(loop.conn(), record, nullptr);
  auto reply = loop.next_record();
  if (!head_ok) {
    FUZZ_CHECK(!reply && loop.conn()->is_closed());
    return 0;
  }
  if (type == MsgType::kReply) {
    FUZZ_CHECK(!reply);  // no reply sink: dropped
    return 0;
  }
  FUZZ_CHECK(reply.has_value());
  FUZZ_CHECK(!loop.next_record().has_value());

  xdr::Decoder rd(*reply);
  uint32_t rxid = 0;
  MsgType rtype{};
  ReplyHeader rh;
  FUZZ_CHECK(decode_xid_and_type(rd, rxid, rtype) && rtype == MsgType::kReply && rxid == xid);
  FUZZ_CHECK(decode_reply_header(rd, rh));
  const Expected x = expected(call_ok, h);
  FUZZ_CHECK(rh.stat == x.stat);
  if (x.stat == ReplyStat::kAccepted) {
    FUZZ_CHECK(rh.accept == x.accept);
    if (x.accept == AcceptStat::kProgMismatch) {
      FUZZ_CHECK(rh.mismatch_low == 2 && rh.mismatch_high == 3);
    }
    if (x.accept == AcceptStat::kSuccess && h.procedure == kProcEcho) {
      FUZZ_CHECK(same_bytes(rd.rest(), d.rest()));
    }
    if (x.accept == AcceptStat::kSuccess && h.procedure == 0) FUZZ_CHECK(rd.remaining() == 0);
  } else {
    FUZZ_CHECK(rh.reject == x.reject);
    if (x.reject == RejectStat::kAuthError) FUZZ_CHECK(rh.auth == x.auth);
    if (x.reject == RejectStat::kRpcMismatch) {
      FUZZ_CHECK(rh.mismatch_low == kRpcVersion && rh.mismatch_high == kRpcVersion);
    }
  }
  return 0;
}
