#include "client/callbacks.h"

#include "xdr/decoder.h"
#include "xdr/encoder.h"

namespace dfs::testing {

std::optional<CbCall> decode_callback(const rpc::IncomingCall& call) {
  CbCall out;
  out.xid = call.header.xid;
  out.program = call.header.program;
  out.procedure = call.header.procedure;
  out.flavor = call.header.cred.flavor;
  if (out.procedure == kCbProcNull) return out;
  if (out.procedure != kCbProcCompound) return std::nullopt;
  xdr::Decoder d(call.args());
  std::string tag;
  uint32_t ident = 0, count = 0, op = 0;
  d.string(tag, kOpaqueLimit);
  d.u32(out.minorversion);
  d.u32(ident);
  d.u32(count);
  d.u32(op);
  if (!d.ok() || count == 0 || op != OP_CB_SEQUENCE) return std::nullopt;
  xdr::io(d, out.sequence);
  for (uint32_t i = 1; i < count && d.ok(); ++i) {
    CbOp o;
    d.u32(o.op);
    switch (o.op) {
      case OP_CB_RECALL:
        xdr::io(d, o.recall);
        break;
      case OP_CB_NOTIFY_LOCK:
        xdr::io(d, o.notify_lock);
        break;
      case OP_CB_RECALL_ANY:
        xdr::io(d, o.recall_any);
        break;
      case OP_CB_GETATTR:
        xdr::io(d, o.getattr);
        break;
      default:
        return std::nullopt;
    }
    out.ops.push_back(std::move(o));
  }
  if (!d.ok()) return std::nullopt;
  return out;
}

xdr::ByteBuffer callback_reply(const CbCall& call, nfsstat4 seq_status, nfsstat4 op_status,
                               const Fattr* getattr) {
  xdr::ByteBuffer b;
  if (call.procedure == kCbProcNull) return b;
  xdr::Encoder e(b);
  const bool seq_ok = seq_status == NFS4_OK;
  e.u32(seq_ok ? op_status : seq_status);
  e.string("");
  e.u32(seq_ok ? static_cast<uint32_t>(1 + call.ops.size()) : 1);
  e.u32(OP_CB_SEQUENCE);
  CbSequenceResult seq;
  seq.status = seq_status;
  seq.ok.sessionid = call.sequence.sessionid;
  seq.ok.sequenceid = call.sequence.sequenceid;
  seq.ok.slotid = call.sequence.slotid;
  seq.ok.highest_slotid = call.sequence.highest_slotid;
  seq.ok.target_highest_slotid = call.sequence.highest_slotid;
  xdr::io(e, seq);
  if (!seq_ok) return b;
  for (const auto& op : call.ops) {
    e.u32(op.op);
    e.u32(op_status);
    if (op.op == OP_CB_GETATTR && op_status == NFS4_OK) {
      Fattr empty;
      xdr::io(e, getattr ? *getattr : empty);
    }
  }
  return b;
}

std::optional<CbCall> next_callback(NfsClient& c) {
  auto call = c.rpc().read_call();
  if (!call) return std::nullopt;
  return decode_callback(*call);
}

std::optional<CbCall> next_cb_compound(NfsClient& c) {
  for (;;) {
    auto cb = next_callback(c);
    if (!cb) return std::nullopt;
    if (cb->procedure == kCbProcCompound) return cb;
    c.rpc().send_reply(cb->xid, {});  // CB_NULL
  }
}

void answer_callbacks(NfsClient& c) {
  c.rpc().set_call_handler([](const rpc::IncomingCall& in) -> std::optional<xdr::ByteBuffer> {
    auto cb = decode_callback(in);
    if (!cb) return std::nullopt;
    return callback_reply(*cb);
  });
}

}  // namespace dfs::testing
