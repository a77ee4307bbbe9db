// Replies to the server's callbacks (RFC 8881 §20; rpc/outbound_calls.h, nfs4/callback.h):
// what a client answers on its back channel. A fresh in-process server (live_service.h)
// gives a client a session with the back channel on a loopback connection, the callback
// service sends callbacks over it, and the input answers them: the RPC reply header, the
// CB_COMPOUND reply and CB_SEQUENCE's result decoded by the server, and what the service
// does then (retries, a smaller slot table, a backchannel fault, giving up).
//
// Asserted: every callback the server sends is a well-formed CB_COMPOUND (or CB_NULL) for
// the session, on a slot the client offered; and every callback ends exactly once whatever
// the client answered, or when it stops answering (its connection is closed under it).
//
// Input: byte 0 picks how many callbacks are queued (1 to 3), how many callback slots the
// client offers (1 to 4) and which operations they carry; then replies, each a 16-bit
// big-endian length and that many bytes, which follow the xid of the callback they answer.

#include <cstdint>
#include <vector>

#include "fuzz_check.h"
#include "live_service.h"
#include "nfs4/callback_types.h"
#include "rpc/message.h"

namespace {

using namespace dfs;
using namespace dfs::nfs4;

std::vector<CallbackService::Op> callback_ops(uint8_t which) {
  std::vector<CallbackService::Op> ops;
  auto add = [&](uint32_t op, const auto& args) {
    CallbackService::Op o;
    o.op = op;
    xdr::Encoder e(o.args);
    xdr::io(e, args);
    ops.push_back(std::move(o));
  };
  if (which & 2) {
    // As a GETATTR waiting on a write delegation sends it (its answer is decoded below).
    CbGetattrArgs ga;
    ga.fh.len = 8;
    ga.attr_request = Bitmap{3, 4};  // change, size
    add(OP_CB_GETATTR, ga);
    return ops;
  }
  CbRecallAnyArgs any;
  any.objects_to_keep = 1;
  any.type_mask.set(RCA4_TYPE_MASK_RDATA_DLG);
  add(OP_CB_RECALL_ANY, any);
  if (which & 1) {
    CbGetattrArgs ga;
    ga.fh.len = 8;
    ga.attr_request.set(4);  // size
    add(OP_CB_GETATTR, ga);
  }
  return ops;
}

// A callback the server sent: its xid, after checking it is one the client can take.
uint32_t check_call(const std::vector<uint8_t>& rec, const SessionId& session, uint32_t slots) {
  xdr::Decoder d(rec);
  uint32_t xid = 0;
  rpc::MsgType type{};
  rpc::CallHeader h;
  FUZZ_CHECK(rpc::decode_xid_and_type(d, xid, type) && type == rpc::MsgType::kCall);
  FUZZ_CHECK(rpc::decode_call_body_header(d, h));
  FUZZ_CHECK(h.rpc_version == rpc::kRpcVersion);
  FUZZ_CHECK(h.program == fuzz::LiveServer::kCallbackProgram && h.version == 1);
  if (h.procedure == kCbProcNull) {
    FUZZ_CHECK(d.remaining() == 0);
    return xid;
  }
  FUZZ_CHECK(h.procedure == kCbProcCompound);
  std::string tag;
  uint32_t minor = 0, ident = 0, count = 0, op = 0;
  d.string(tag);
  d(minor, ident, count, op);
  CbSequenceArgs seq;
  xdr::io(d, seq);
  FUZZ_CHECK(d.ok() && minor == 1 && count >= 1 && op == OP_CB_SEQUENCE);
  FUZZ_CHECK(seq.sessionid == session);
  FUZZ_CHECK(seq.slotid < slots && seq.highest_slotid < slots && seq.sequenceid >= 1);
  return xid;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t b0 = data[0];
  const size_t calls = 1 + (b0 >> 1) % 3;
  const uint32_t slots = 1 + (b0 >> 3) % 4;

  fuzz::LiveServer server;
  FUZZ_CHECK(server.establish(true, slots));
  auto& svc = server.service();
  std::vector<int> ended(calls, 0);
  for (size_t i = 0; i < calls; ++i) {
    svc.callbacks.call(
        server.sessionid(), callback_ops(b0),
        [&ended, i](const CallbackService::Outcome& out) {
          ++ended[i];
          // Whatever the client answered, reading it as CB_GETATTR's result is safe.
          (void)CallbackService::decode_holder_attrs(out.results.span());
        },
        server.clientid());
  }

  size_t pos = 1;
  // Bounded: a callback is sent at most a few times (CallbackService::kMaxAttempts).
  for (int round = 0; round < 64; ++round) {
    auto& pending = server.server_calls();
    if (pending.empty()) {
      if (svc.outbound.pending() == 0) break;
      // The client stopped answering: its connection goes, which ends the calls on it.
      svc.outbound.connection_closed(server.loopback().conn()->id());
      continue;
    }
    const std::vector<uint8_t> call = std::move(pending.front());
    pending.pop_front();
    const uint32_t xid = check_call(call, server.sessionid(), slots);
    if (size - pos < 2) continue;  // no answer to this one
    const size_t n = std::min<size_t>((size_t{data[pos]} << 8) | data[pos + 1], size - pos - 2);
    pos += 2;
    std::vector<uint8_t> reply = {static_cast<uint8_t>(xid >> 24), static_cast<uint8_t>(xid >> 16),
                                  static_cast<uint8_t>(xid >> 8), static_cast<uint8_t>(xid)};
    reply.insert(reply.end(), data + pos, data + pos + n);
    pos += n;
    server.record(reply);
  }
  FUZZ_CHECK(svc.outbound.pending() == 0);
  for (int e : ended)
    FUZZ_CHECK(e == 1);
  return 0;
}
