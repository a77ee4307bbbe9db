#include "client/nfs_client.h"

#include <random>
#include <sstream>

namespace dfs::testing {

xdr::ByteBuffer CompoundBuilder::encode() const {
  xdr::ByteBuffer out(ops_.size() + 64);
  xdr::Encoder e(out);
  e.string(tag_);
  e.u32(minor_);
  e.u32(count_);
  out.append(ops_.data(), ops_.size());
  return out;
}

CompoundReply::CompoundReply(rpc::RpcReply reply) : rpc(std::move(reply)) {
  if (!rpc.accepted_success()) {
    throw CompoundError("RPC call not accepted (accept_stat " +
                        std::to_string(static_cast<uint32_t>(rpc.header.accept)) + ")");
  }
  d_ = xdr::Decoder(rpc.body());
  uint32_t st = 0;
  d_.u32(st);
  d_.string(tag);
  d_.u32(count);
  if (!d_.ok()) throw CompoundError("undecodable COMPOUND reply header");
  status = static_cast<nfsstat4>(st);
}

NfsClient::NfsClient(const std::string& host, uint16_t port, uint32_t uid, uint32_t gid,
                     const std::string& from) {
  rpc_.connect(host, port, from);
  rpc_.set_auth_sys(uid, gid);
}

bool NfsClient::null_call() {
  auto r = rpc_.call(kProgram, kVersion, kProcNull, {});
  return r && r->accepted_success();
}

uint32_t NfsClient::send(const CompoundBuilder& b) {
  auto args = b.encode();
  return rpc_.send_call(kProgram, kVersion, kProcCompound, args.span());
}

CompoundReply NfsClient::wait(uint32_t xid) {
  auto r = rpc_.wait_reply(xid);
  if (!r) throw CompoundError("no reply (timeout or connection closed)");
  return CompoundReply(std::move(*r));
}

CompoundReply NfsClient::compound(const CompoundBuilder& b) {
  return wait(send(b));
}

void NfsClient::establish(const std::string& owner, uint32_t slots, uint32_t flags,
                          uint32_t back_slots) {
  if (owner.empty()) {
    std::random_device rd;
    std::ostringstream os;
    os << "dfs-test-" << std::hex << rd() << rd();
    owner_name = os.str();
  } else {
    owner_name = owner;
  }
  ExchangeIdArgs ex;
  ex.clientowner.ownerid.assign(owner_name.begin(), owner_name.end());
  std::random_device rd;
  for (auto& b : ex.clientowner.verifier)
    b = static_cast<uint8_t>(rd());
  ex.flags = 0;
  ex.state_protect = state_protect;
  auto r1 = compound(builder().op(OP_EXCHANGE_ID, ex));
  auto eid = r1.next<ExchangeIdResult>(OP_EXCHANGE_ID);
  if (eid.status != NFS4_OK)
    throw CompoundError("EXCHANGE_ID failed: " + std::to_string(eid.status));
  state_protect_result = eid.ok.state_protect;
  server_owner = eid.ok.server_owner;
  server_scope = eid.ok.server_scope;
  clientid = eid.ok.clientid;
  create_seq = eid.ok.sequenceid;

  CreateSessionArgs cs;
  cs.clientid = clientid;
  cs.sequence = create_seq;
  cs.flags = flags;
  cs.fore = requested_fore;
  cs.fore.maxrequests = slots;
  cs.back = {0, 4096, 4096, 0, 4, back_slots, {}};
  cs.cb_program = 0x40000000;
  CallbackSecParms none;
  none.flavor = 0;
  cs.sec_parms.push_back(none);
  auto r2 = compound(builder().op(OP_CREATE_SESSION, cs));
  auto csr = r2.next<CreateSessionResult>(OP_CREATE_SESSION);
  if (csr.status != NFS4_OK) {
    throw CompoundError("CREATE_SESSION failed: " + std::to_string(csr.status));
  }
  create_seq++;
  sessionid = csr.ok.sessionid;
  fore = csr.ok.fore;
  slot_seq.assign(fore.maxrequests, 0);
  // A new client id reclaims nothing; without this, OPEN and LOCK get NFS4ERR_GRACE
  // (RFC 5661 §18.51.3).
  if (!send_reclaim_complete) return;
  auto r3 = call(builder().op(OP_RECLAIM_COMPLETE, ReclaimCompleteArgs{false}));
  if (r3.status != NFS4_OK) {
    throw CompoundError("RECLAIM_COMPLETE failed: " + std::to_string(r3.status));
  }
}

SequenceArgs NfsClient::next_sequence(uint32_t slot, bool cachethis) {
  SequenceArgs s;
  s.sessionid = sessionid;
  if (slot >= slot_seq.size()) slot_seq.resize(slot + 1, 0);
  s.sequenceid = ++slot_seq[slot];
  s.slotid = slot;
  s.highest_slotid = static_cast<uint32_t>(slot_seq.size() - 1);
  s.cachethis = cachethis;
  return s;
}

CompoundReply NfsClient::call_with(const SequenceArgs& seq, const CompoundBuilder& b) {
  CompoundBuilder full(minor_);
  full.op(OP_SEQUENCE, seq);
  auto inner = b.encode();
  // Skip the inner builder's header (tag, minor, count) and splice its ops.
  xdr::Decoder d(inner.span());
  std::string t;
  uint32_t minor = 0, n = 0;
  d.string(t);
  d.u32(minor);
  d.u32(n);
  full.raw(d.rest(), n);
  auto reply = compound(full);
  if (reply.count > 0) {
    auto sr = reply.next<SequenceResult>(OP_SEQUENCE);
    if (sr.status != NFS4_OK) reply.status = sr.status;
  }
  return reply;
}

CompoundReply NfsClient::call(CompoundBuilder b, uint32_t slot, bool cachethis) {
  return call_with(next_sequence(slot, cachethis), b);
}

void NfsClient::destroy() {
  SessionIdArgs ds{sessionid};
  compound(builder().op(OP_DESTROY_SESSION, ds));
  ClientIdArgs dc{clientid};
  compound(builder().op(OP_DESTROY_CLIENTID, dc));
}

Fh NfsClient::root_fh() {
  auto r = call(builder().op(OP_PUTROOTFH).op(OP_GETFH));
  if (r.next_status(OP_PUTROOTFH) != NFS4_OK) throw CompoundError("PUTROOTFH failed");
  auto fh = r.next<GetFhResult>(OP_GETFH);
  if (fh.status != NFS4_OK) throw CompoundError("GETFH failed");
  return fh.ok.object;
}

Fh NfsClient::lookup_path(const std::string& path) {
  auto b = builder();
  b.op(OP_PUTROOTFH);
  std::stringstream ss(path);
  std::string part;
  size_t n = 0;
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    b.op(OP_LOOKUP, ComponentArgs{part});
    ++n;
  }
  b.op(OP_GETFH);
  auto r = call(b);
  if (r.status != NFS4_OK) {
    throw CompoundError("lookup of " + path + " failed: " + std::to_string(r.status));
  }
  r.next_status(OP_PUTROOTFH);
  for (size_t i = 0; i < n; ++i)
    r.next_status(OP_LOOKUP);
  return r.next<GetFhResult>(OP_GETFH).ok.object;
}

nfsstat4 NfsClient::open(const Fh& dir, const std::string& name, uint32_t access, uint32_t deny,
                         bool create, Opened& out, const std::string& open_owner) {
  OpenArgs oa;
  oa.share_access = access;
  oa.share_deny = deny;
  oa.owner.clientid = clientid;
  oa.owner.owner.assign(open_owner.begin(), open_owner.end());
  oa.how.opentype = create ? OPEN4_CREATE : OPEN4_NOCREATE;
  oa.how.mode = UNCHECKED4;
  oa.claim.type = CLAIM_NULL;
  oa.claim.file = name;
  auto r = call(builder().op(OP_PUTFH, PutFhArgs{dir}).op(OP_OPEN, oa).op(OP_GETFH));
  if (r.next_status(OP_PUTFH) != NFS4_OK) return r.status;
  auto o = r.next<OpenResult>(OP_OPEN);
  if (o.status != NFS4_OK) return o.status;
  out.stateid = o.ok.stateid;
  out.fh = r.next<GetFhResult>(OP_GETFH).ok.object;
  return NFS4_OK;
}

NfsClient::Opened NfsClient::open_or_throw(const Fh& dir, const std::string& name, uint32_t access,
                                           uint32_t deny, bool create) {
  Opened o;
  auto st = open(dir, name, access, deny, create, o);
  if (st != NFS4_OK) throw CompoundError("OPEN " + name + " failed: " + std::to_string(st));
  return o;
}

nfsstat4 NfsClient::close(const Opened& o) {
  auto r = call(builder().op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_CLOSE, StateidSeqArgs{0, o.stateid}));
  return r.status;
}

nfsstat4 NfsClient::write(const Opened& o, uint64_t offset, std::span<const uint8_t> data,
                          stable_how4 how) {
  WriteArgs wa;
  wa.stateid = o.stateid;
  wa.offset = offset;
  wa.stable = how;
  wa.data.bytes = data;
  auto r = call(builder().op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_WRITE, wa));
  return r.status;
}

nfsstat4 NfsClient::read(const Opened& o, uint64_t offset, uint32_t count,
                         std::vector<uint8_t>& out, bool* eof) {
  auto r =
      call(builder().op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_READ, ReadArgs{o.stateid, offset, count}));
  if (r.status != NFS4_OK) return r.status;
  r.next_status(OP_PUTFH);
  auto rr = r.next<ReadResult>(OP_READ);
  out.assign(rr.ok.pieces[0].bytes.begin(), rr.ok.pieces[0].bytes.end());
  if (eof) *eof = rr.ok.eof;
  return NFS4_OK;
}

nfsstat4 NfsClient::mkdir(const Fh& dir, const std::string& name, Fh* out) {
  CreateArgs ca;
  ca.objtype.type = NF4DIR;
  ca.objname = name;
  auto r = call(builder().op(OP_PUTFH, PutFhArgs{dir}).op(OP_CREATE, ca).op(OP_GETFH));
  if (r.status != NFS4_OK) return r.status;
  r.next_status(OP_PUTFH);
  r.next<CreateResult>(OP_CREATE);
  if (out) *out = r.next<GetFhResult>(OP_GETFH).ok.object;
  return NFS4_OK;
}

nfsstat4 NfsClient::remove(const Fh& dir, const std::string& name) {
  auto r = call(builder().op(OP_PUTFH, PutFhArgs{dir}).op(OP_REMOVE, ComponentArgs{name}));
  return r.status;
}

nfsstat4 NfsClient::getattr(const Fh& fh, const Bitmap& attrs, Fattr& out) {
  auto r = call(builder().op(OP_PUTFH, PutFhArgs{fh}).op(OP_GETATTR, GetattrArgs{attrs}));
  if (r.status != NFS4_OK) return r.status;
  r.next_status(OP_PUTFH);
  out = std::move(r.next<GetattrResult>(OP_GETATTR).ok.attrs);
  return NFS4_OK;
}

uint64_t NfsClient::getattr_u64(const Fh& fh, uint32_t attr) {
  Fattr f;
  if (getattr(fh, Bitmap{attr}, f) != NFS4_OK) throw CompoundError("GETATTR failed");
  xdr::Decoder d(f.vals.span());
  uint64_t v = 0;
  if (f.vals.size() == 4) {
    uint32_t v32 = 0;
    d.u32(v32);
    v = v32;
  } else {
    d.u64(v);
  }
  return v;
}

}  // namespace dfs::testing
