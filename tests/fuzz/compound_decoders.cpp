#include "compound_decoders.h"

#include <map>

#include "fuzz_check.h"
#include "nfs4/attributes.h"
#include "nfs4/op_table.h"
#include "nfs4/op_types.h"
#include "xdr/xdr.h"

namespace dfs::fuzz {
namespace {

using namespace nfs4;
using Decode = ArgsDecode (*)(xdr::Decoder&);

template <class Args>
xdr::ByteBuffer encoded(const Args& args) {
  xdr::ByteBuffer head;
  xdr::Encoder e(head);
  xdr::io(e, args);
  xdr::ByteBuffer flat;
  e.flatten_into(flat);  // WRITE data is spliced in by reference
  return flat;
}

bool same(const xdr::ByteBuffer& a, const xdr::ByteBuffer& b) {
  return a.size() == b.size() && std::equal(a.data(), a.data() + a.size(), b.data());
}

// What a handler does with an attribute list it is sent (the fattr4 values are a second
// layer of XDR inside the arguments, decoded only here).
void settable(const Fattr& attrs) {
  vfs::SetAttributes out;
  decode_settable(attrs, out);
}

template <class Args>
void after_decode(const Args&) {}
template <>
void after_decode(const SetattrArgs& a) {
  settable(a.attrs);
}
template <>
void after_decode(const CreateArgs& a) {
  settable(a.createattrs);
}
template <>
void after_decode(const OpenArgs& a) {
  if (a.how.opentype == OPEN4_CREATE) settable(a.how.createattrs);
}

// Decodes as typed_op does; then the value encoded, decoded and encoded again must give the
// same bytes (an encoder and decoder that disagree corrupt what the project's own client
// sends, and what the server caches for replays).
template <class Args>
ArgsDecode typed(xdr::Decoder& d) {
  Args args{};
  xdr::io(d, args);
  if (!d.ok()) return ArgsDecode::kMalformed;
  after_decode(args);
  const xdr::ByteBuffer once = encoded(args);
  Args again{};
  FUZZ_CHECK(xdr::decode_exact(once.span(), again));
  FUZZ_CHECK(same(once, encoded(again)));
  return ArgsDecode::kOk;
}

const std::map<uint32_t, Decode>& decoders() {
  static const std::map<uint32_t, Decode> table = {
      {OP_ACCESS, typed<AccessArgs>},
      {OP_CLOSE, typed<StateidSeqArgs>},
      {OP_COMMIT, typed<CommitArgs>},
      {OP_CREATE, typed<CreateArgs>},
      {OP_DELEGRETURN, typed<StateidArgs>},
      {OP_GETATTR, typed<GetattrArgs>},
      {OP_GETFH, typed<Void>},
      {OP_LINK, typed<ComponentArgs>},
      {OP_LOCK, typed<LockArgs>},
      {OP_LOCKT, typed<LocktArgs>},
      {OP_LOCKU, typed<LockuArgs>},
      {OP_LOOKUP, typed<ComponentArgs>},
      {OP_LOOKUPP, typed<Void>},
      {OP_NVERIFY, typed<VerifyArgs>},
      {OP_OPEN, typed<OpenArgs>},
      {OP_OPEN_DOWNGRADE, typed<OpenDowngradeArgs>},
      {OP_PUTFH, typed<PutFhArgs>},
      {OP_PUTPUBFH, typed<Void>},
      {OP_PUTROOTFH, typed<Void>},
      {OP_READ, typed<ReadArgs>},
      {OP_READDIR, typed<ReaddirArgs>},
      {OP_READLINK, typed<Void>},
      {OP_REMOVE, typed<ComponentArgs>},
      {OP_RENAME, typed<RenameArgs>},
      {OP_RESTOREFH, typed<Void>},
      {OP_SAVEFH, typed<Void>},
      {OP_SECINFO, typed<ComponentArgs>},
      {OP_SETATTR, typed<SetattrArgs>},
      {OP_VERIFY, typed<VerifyArgs>},
      {OP_WRITE, typed<WriteArgs>},
      {OP_BACKCHANNEL_CTL, typed<BackchannelCtlArgs>},
      {OP_BIND_CONN_TO_SESSION, typed<BindConnArgs>},
      {OP_EXCHANGE_ID, typed<ExchangeIdArgs>},
      {OP_CREATE_SESSION, typed<CreateSessionArgs>},
      {OP_DESTROY_SESSION, typed<SessionIdArgs>},
      {OP_FREE_STATEID, typed<StateidArgs>},
      {OP_SECINFO_NO_NAME, typed<SecInfoNoNameArgs>},
      {OP_SEQUENCE, typed<SequenceArgs>},
      {OP_TEST_STATEID, typed<TestStateidArgs>},
      {OP_DESTROY_CLIENTID, typed<ClientIdArgs>},
      {OP_RECLAIM_COMPLETE, typed<ReclaimCompleteArgs>},
      {OP_WANT_DELEGATION, typed<WantDelegationArgs>},
  };
  return table;
}

}  // namespace

ArgsDecode decode_op_args(uint32_t op, xdr::Decoder& d) {
  const auto it = decoders().find(op);
  if (it == decoders().end()) return ArgsDecode::kNotDecoded;
  return it->second(d);
}

bool decoders_cover_op_table() {
  for (uint32_t op = 0; op <= kLastOp42; ++op) {
    const OpDescriptor* desc = find_op(op, 2);
    const bool typed_handler = desc && desc->run != op_notsupp;
    if (typed_handler != (decoders().count(op) == 1)) return false;
  }
  return true;
}

}  // namespace dfs::fuzz
