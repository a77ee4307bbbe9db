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

std::shared_ptr<xdr::OutOfLineBytes> Dispatcher::place(std::span<const uint8_t> head,
                                                       size_t length) {
  xdr::Decoder d(head);
  uint32_t xid = 0;
  MsgType type{};
  CallHeader h;
  if (!decode_xid_and_type(d, xid, type) || type != MsgType::kCall ||
      !decode_call_body_header(d, h) || h.rpc_version != kRpcVersion || h.procedure == 0) {
    return nullptr;
  }
  auto it = programs_.find(h.program);
  if (it == programs_.end()) return nullptr;
  const size_t args_at = static_cast<size_t>(d.cursor() - head.data());
  auto bytes = it->second->place(h.version, h.procedure, d, length - args_at);
  if (bytes) bytes->record_offset += args_at;
  return bytes;
}

void Dispatcher::on_record(const std::shared_ptr<Connection>& conn, std::span<const uint8_t> record,
                           std::shared_ptr<xdr::OutOfLineBytes> out_of_line) {
  xdr::Decoder d(record);
  size_t record_size = record.size();
  // Kept here too, so ctx.out_of_line stays valid after the decoder hands the bytes on.
  const std::shared_ptr<xdr::OutOfLineBytes> ool = out_of_line;
  if (ool) {
    record_size += ool->length;
    d.set_out_of_line(std::move(out_of_line), record.data() + ool->record_offset);
  }
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
  bool deferred = false;
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
    ctx.record_size = record_size;
    if (ool) {
      ctx.out_of_line = ool.get();
      ctx.out_of_line_at = record.data() + ool->record_offset;
    }
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
      deferred = ctx.reply_deferred && st == AcceptStat::kSuccess;
    }
  }
  if (deferred) return;
  conn->send(OutboundMessage::from_encoder(e, std::move(buf)));
}

}  // namespace dfs::rpc
