#include "live_service.h"

#include "nfs4/op_types.h"
#include "null_log.h"
#include "rpc/message.h"
#include "vfs/block/memory_store.h"
#include "vfs/metadata/memory_store.h"
#include "vfs/store_file_system.h"

namespace dfs::fuzz {
namespace {

using namespace nfs4;

// COMPOUND4args from ops already encoded (each its number then its arguments).
xdr::ByteBuffer compound_args(uint32_t count, const xdr::ByteBuffer& ops) {
  xdr::ByteBuffer out;
  xdr::Encoder e(out);
  e.string("");
  e.u32(1);
  e.u32(count);
  out.append(ops.data(), ops.size());
  return out;
}

template <class Args>
void add_op(xdr::ByteBuffer& ops, uint32_t op, const Args& args) {
  xdr::Encoder e(ops);
  e.u32(op);
  xdr::io(e, args);
}

}  // namespace

LiveServer::LiveServer() {
  log_to_nowhere();
  Settings s;
  s.max_read_size = kMaxResponse / 2;
  s.max_write_size = kMaxResponse / 2;
  settings_.set(s);
  auto fs = std::make_shared<vfs::StoreFileSystem>(1, std::make_shared<vfs::MemoryMetadataStore>(),
                                                   std::make_shared<vfs::MemoryBlockStore>());
  vfs::ShareOptions opts;
  opts.root_squash = false;  // root may do everything: the ops get past permission checks
  ns_.add_share("/export", fs, opts);
  service_ = std::make_unique<Nfs4Service>(ns_, settings_);
  service_->set_instance_id("fuzz");
  dispatcher_.add_program(std::make_shared<Nfs4Program>(*service_));
  dispatcher_.set_reply_sink(
      [this](const std::shared_ptr<rpc::Connection>& conn, uint32_t xid,
             std::span<const uint8_t> record) { service_->outbound.on_reply(conn, xid, record); });
  loopback_ = std::make_unique<Loopback>(dispatcher_);
}

LiveServer::~LiveServer() {
  // Calls still waiting end now, while the callback service they report to exists.
  service_->stop();
}

LiveServer::Records LiveServer::record(std::span<const uint8_t> rpc_record) {
  dispatcher_.on_record(loopback_->conn(), rpc_record, nullptr);
  server_calls();
  Records replies;
  replies.swap(replies_);
  return replies;
}

std::deque<std::vector<uint8_t>>& LiveServer::server_calls() {
  // Sorted by message type (the word after the xid): calls are the server's callbacks.
  while (auto rec = loopback_->next_record()) {
    const bool call =
        rec->size() >= 8 && (*rec)[4] == 0 && (*rec)[5] == 0 && (*rec)[6] == 0 && (*rec)[7] == 0;
    if (call) {
      server_calls_.push_back(std::move(*rec));
    } else {
      replies_.push_back(std::move(*rec));
    }
  }
  return server_calls_;
}

LiveServer::Records LiveServer::compound(std::span<const uint8_t> args) {
  xdr::ByteBuffer rec;
  xdr::Encoder e(rec);
  const auto cred = rpc::encode_auth_sys(0, "fuzz", 0, 0, {});
  rpc::CallHeader h;
  h.xid = next_xid_++;
  h.rpc_version = rpc::kRpcVersion;
  h.program = kProgram;
  h.version = kVersion;
  h.procedure = kProcCompound;
  h.cred.flavor = rpc::AuthFlavor::kSys;
  h.cred.body = cred;
  rpc::encode_call_header(e, h);
  rec.append(args.data(), args.size());
  return record(rec.span());
}

bool read_compound_reply(std::span<const uint8_t> record, CompoundReplyHead& head,
                         xdr::Decoder& results) {
  xdr::Decoder d(record);
  rpc::MsgType type{};
  rpc::ReplyHeader rh;
  if (!rpc::decode_xid_and_type(d, head.xid, type) || type != rpc::MsgType::kReply ||
      !rpc::decode_reply_header(d, rh) || rh.stat != rpc::ReplyStat::kAccepted ||
      rh.accept != rpc::AcceptStat::kSuccess) {
    return false;
  }
  uint32_t status = 0;
  std::string tag;
  d.u32(status);
  d.string(tag);
  d.u32(head.count);
  head.status = static_cast<nfsstat4>(status);
  results = d;
  return d.ok();
}

bool LiveServer::establish(bool back_channel, uint32_t back_slots) {
  auto expect = [](const Records& replies, uint32_t op, auto& result) {
    CompoundReplyHead head;
    xdr::Decoder d;
    if (replies.size() != 1 || !read_compound_reply(replies[0], head, d) ||
        head.status != NFS4_OK) {
      return false;
    }
    uint32_t got = 0;
    d.u32(got);
    xdr::io(d, result);
    return d.ok() && got == op;
  };

  ExchangeIdArgs ex;
  ex.clientowner.ownerid = {'f', 'u', 'z', 'z'};
  ex.flags = EXCHGID4_FLAG_USE_NON_PNFS;
  xdr::ByteBuffer ops;
  add_op(ops, OP_EXCHANGE_ID, ex);
  ExchangeIdResult exr;
  if (!expect(compound(compound_args(1, ops).span()), OP_EXCHANGE_ID, exr)) return false;
  clientid_ = exr.ok.clientid;

  CreateSessionArgs cs;
  cs.clientid = clientid_;
  cs.sequence = exr.ok.sequenceid;
  cs.flags = back_channel ? CREATE_SESSION4_FLAG_CONN_BACK_CHAN : 0;
  cs.fore = {0, 1u << 20, kMaxResponse, kMaxResponse, 16, 4, {}};
  cs.back = {0, 4096, 4096, 0, 4, back_slots, {}};
  cs.cb_program = kCallbackProgram;
  cs.sec_parms.push_back(CallbackSecParms{});  // AUTH_NONE
  ops.clear();
  add_op(ops, OP_CREATE_SESSION, cs);
  CreateSessionResult csr;
  if (!expect(compound(compound_args(1, ops).span()), OP_CREATE_SESSION, csr)) return false;
  sessionid_ = csr.ok.sessionid;

  SequenceArgs seq;
  seq.sessionid = sessionid_;
  seq.sequenceid = 1;
  ops.clear();
  add_op(ops, OP_SEQUENCE, seq);
  add_op(ops, OP_RECLAIM_COMPLETE, ReclaimCompleteArgs{false});
  SequenceResult sr;
  return expect(compound(compound_args(2, ops).span()), OP_SEQUENCE, sr);
}

}  // namespace dfs::fuzz
