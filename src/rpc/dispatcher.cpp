#include "rpc/dispatcher.h"

#include <spdlog/spdlog.h>

#include "rpc/message.h"

namespace dfs::rpc {

void Dispatcher::add_program(std::shared_ptr<Program> program) {
  programs_[program->number()] = std::move(program);
}

void Dispatcher::on_disconnect(const std::shared_ptr<Connection>& conn) {
  for (auto& [n, p] : programs_)
    p->on_disconnect(conn);
}

void Dispatcher::on_record(const std::shared_ptr<Connection>& conn,
                           std::span<const uint8_t> record) {
  xdr::Decoder d(record);
  uint32_t xid = 0;
  MsgType type{};
  if (!decode_xid_and_type(d, xid, type)) {
    // Not even an RPC header: nothing to answer to (RFC 5531 gives no reply for this).
    spdlog::warn("connection {} from {}: undecodable RPC header, closing", conn->id(),
                 conn->peer());
    conn->close();
    return;
  }
  if (type == MsgType::kReply) {
    if (reply_sink_) {
      reply_sink_(conn, xid, record);
    } else {
      spdlog::debug("connection {}: unexpected RPC reply xid {:#x} dropped", conn->id(), xid);
    }
    return;
  }

  xdr::ByteBuffer buf(4096);
  xdr::Encoder e(buf);
  e.reserve_u32();  // record mark
  CallHeader h;
  h.xid = xid;
  if (!decode_call_body_header(d, h)) {
    encode_accepted_reply(e, xid, AcceptStat::kGarbageArgs);
  } else if (h.rpc_version != kRpcVersion) {
    encode_rpc_mismatch(e, xid);
  } else {
    CallContext ctx;
    ctx.xid = xid;
    ctx.version = h.version;
    ctx.procedure = h.procedure;
    ctx.conn = &conn;
    ctx.record_size = record.size();
    AuthStat auth = authenticate(h.cred, h.verf, ctx.cred);
    auto it = programs_.find(h.program);
    if (auth != AuthStat::kOk) {
      encode_auth_error(e, xid, auth);
    } else if (it == programs_.end()) {
      encode_accepted_reply(e, xid, AcceptStat::kProgUnavail);
    } else if (h.version < it->second->min_version() || h.version > it->second->max_version()) {
      encode_prog_mismatch(e, xid, it->second->min_version(), it->second->max_version());
    } else if (h.procedure == 0) {
      encode_accepted_reply(e, xid, AcceptStat::kSuccess);  // NULL: no arguments, no results
    } else {
      encode_accepted_reply(e, xid, AcceptStat::kSuccess);
      auto mark = e.mark();
      AcceptStat st = it->second->call(ctx, d, e);
      if (st != AcceptStat::kSuccess) {
        e.rollback(mark);
        e.buffer().resize(e.buffer().size() - 4);
        e.u32(static_cast<uint32_t>(st));
      }
    }
  }
  conn->send(OutboundMessage::from_encoder(e, std::move(buf)));
}

}  // namespace dfs::rpc
