#include "nfs4/op_table.h"

#include <array>

#include "nfs4/ops/handlers.h"

namespace dfs::nfs4 {

nfsstat4 op_notsupp(Compound&, xdr::Decoder&, xdr::Encoder& e) {
  e.u32(NFS4ERR_NOTSUPP);
  return NFS4ERR_NOTSUPP;
}

namespace {

template <class Args, class Res, nfsstat4 (*Fn)(Compound&, Args&, Res&)>
constexpr OpRunner typed() {
  return &typed_op<Args, Res, Fn>;
}

constexpr uint32_t kSoleFirst = kSessionExempt | kSoleOpWhenFirst;

// Indexed by operation number. Ops with no handler are absent (nullptr run) and answered
// OP_ILLEGAL; unsupported but defined ops run op_notsupp.
std::array<OpDescriptor, kLastOp42 + 1> build_table() {
  std::array<OpDescriptor, kLastOp42 + 1> t{};
  auto def = [&](uint32_t op, const char* name, OpRunner run, uint32_t flags, uint32_t bound,
                 uint32_t min_minor = 1) {
    t[op] = {name, run, flags, min_minor, bound};
  };
  using namespace ops;
  def(OP_ACCESS, "ACCESS", typed<AccessArgs, AccessResult, access>(), kNeedsFh, 16);
  def(OP_CLOSE, "CLOSE", typed<StateidSeqArgs, StateidResult, close>(), kNeedsFh | kModifies, 24);
  def(OP_COMMIT, "COMMIT", typed<CommitArgs, CommitResult, commit>(), kNeedsFh | kModifies, 16);
  def(OP_CREATE, "CREATE", typed<CreateArgs, CreateResult, create>(), kNeedsFh | kModifies, 48);
  def(OP_DELEGPURGE, "DELEGPURGE", op_notsupp, 0, 8);
  def(OP_DELEGRETURN, "DELEGRETURN", typed<StateidArgs, StatusResult, delegreturn>(),
      kNeedsFh | kModifies, 8);
  def(OP_GETATTR, "GETATTR", typed<GetattrArgs, GetattrResult, getattr>(), kNeedsFh, 16);
  def(OP_GETFH, "GETFH", typed<Void, GetFhResult, getfh>(), kNeedsFh, 12 + kFhSize);
  def(OP_LINK, "LINK", typed<ComponentArgs, ChangeInfoResult, link>(), kNeedsFh | kModifies, 28);
  def(OP_LOCK, "LOCK", typed<LockArgs, LockResult, lock>(), kNeedsFh | kModifies, 24);
  def(OP_LOCKT, "LOCKT", typed<LocktArgs, LocktResult, lockt>(), kNeedsFh, 8);
  def(OP_LOCKU, "LOCKU", typed<LockuArgs, StateidResult, locku>(), kNeedsFh | kModifies, 24);
  def(OP_LOOKUP, "LOOKUP", typed<ComponentArgs, StatusResult, lookup>(), kNeedsFh, 8);
  def(OP_LOOKUPP, "LOOKUPP", typed<Void, StatusResult, lookupp>(), kNeedsFh, 8);
  def(OP_NVERIFY, "NVERIFY", typed<VerifyArgs, StatusResult, nverify>(), kNeedsFh, 8);
  def(OP_OPEN, "OPEN", typed<OpenArgs, OpenResult, open>(), kNeedsFh | kModifies, 80);
  def(OP_OPENATTR, "OPENATTR", op_notsupp, kNeedsFh, 8);
  def(OP_OPEN_CONFIRM, "OPEN_CONFIRM", op_notsupp, 0, 8);  // NFSv4.0 only (§18.20)
  def(OP_OPEN_DOWNGRADE, "OPEN_DOWNGRADE",
      typed<OpenDowngradeArgs, StateidResult, open_downgrade>(), kNeedsFh | kModifies, 24);
  def(OP_PUTFH, "PUTFH", typed<PutFhArgs, StatusResult, putfh>(), 0, 8);
  def(OP_PUTPUBFH, "PUTPUBFH", typed<Void, StatusResult, putpubfh>(), 0, 8);
  def(OP_PUTROOTFH, "PUTROOTFH", typed<Void, StatusResult, putrootfh>(), 0, 8);
  def(OP_READ, "READ", typed<ReadArgs, ReadResult, read>(), kNeedsFh, 16);
  def(OP_READDIR, "READDIR", typed<ReaddirArgs, ReaddirResult, readdir>(), kNeedsFh, 24);
  def(OP_READLINK, "READLINK", typed<Void, ReadlinkResult, readlink>(), kNeedsFh, 12);
  def(OP_REMOVE, "REMOVE", typed<ComponentArgs, ChangeInfoResult, remove>(), kNeedsFh | kModifies,
      28);
  def(OP_RENAME, "RENAME", typed<RenameArgs, RenameResult, rename>(), kNeedsFh | kModifies, 48);
  def(OP_RENEW, "RENEW", op_notsupp, 0, 8);  // NFSv4.0 only
  def(OP_RESTOREFH, "RESTOREFH", typed<Void, StatusResult, restorefh>(), 0, 8);
  def(OP_SAVEFH, "SAVEFH", typed<Void, StatusResult, savefh>(), kNeedsFh, 8);
  def(OP_SECINFO, "SECINFO", typed<ComponentArgs, SecInfoResult, secinfo>(), kNeedsFh, 24);
  def(OP_SETATTR, "SETATTR", typed<SetattrArgs, SetattrResult, setattr>(), kNeedsFh | kModifies,
      28);
  def(OP_SETCLIENTID, "SETCLIENTID", op_notsupp, 0, 8);                  // NFSv4.0 only
  def(OP_SETCLIENTID_CONFIRM, "SETCLIENTID_CONFIRM", op_notsupp, 0, 8);  // NFSv4.0 only
  def(OP_VERIFY, "VERIFY", typed<VerifyArgs, StatusResult, verify>(), kNeedsFh, 8);
  def(OP_WRITE, "WRITE", typed<WriteArgs, WriteResult, write>(), kNeedsFh | kModifies, 24);
  def(OP_RELEASE_LOCKOWNER, "RELEASE_LOCKOWNER", op_notsupp, 0, 8);  // NFSv4.0 only
  def(OP_BACKCHANNEL_CTL, "BACKCHANNEL_CTL",
      typed<BackchannelCtlArgs, StatusResult, backchannel_ctl>(), kModifies, 8);
  def(OP_BIND_CONN_TO_SESSION, "BIND_CONN_TO_SESSION",
      typed<BindConnArgs, BindConnResult, bind_conn_to_session>(), kSoleFirst | kModifies, 32);
  def(OP_EXCHANGE_ID, "EXCHANGE_ID", typed<ExchangeIdArgs, ExchangeIdResult, exchange_id>(),
      kSoleFirst | kModifies, 64);
  def(OP_CREATE_SESSION, "CREATE_SESSION",
      typed<CreateSessionArgs, CreateSessionResult, create_session>(), kSoleFirst | kModifies, 88);
  def(OP_DESTROY_SESSION, "DESTROY_SESSION", typed<SessionIdArgs, StatusResult, destroy_session>(),
      kSoleFirst | kModifies, 8);
  def(OP_FREE_STATEID, "FREE_STATEID", typed<StateidArgs, StatusResult, free_stateid>(), kModifies,
      8);
  def(OP_GET_DIR_DELEGATION, "GET_DIR_DELEGATION", op_notsupp, kNeedsFh, 8);
  def(OP_GETDEVICEINFO, "GETDEVICEINFO", op_notsupp, 0, 8);
  def(OP_GETDEVICELIST, "GETDEVICELIST", op_notsupp, 0, 8);
  def(OP_LAYOUTCOMMIT, "LAYOUTCOMMIT", op_notsupp, 0, 8);
  def(OP_LAYOUTGET, "LAYOUTGET", op_notsupp, 0, 8);
  def(OP_LAYOUTRETURN, "LAYOUTRETURN", op_notsupp, 0, 8);
  def(OP_SECINFO_NO_NAME, "SECINFO_NO_NAME",
      typed<SecInfoNoNameArgs, SecInfoResult, secinfo_no_name>(), kNeedsFh, 24);
  def(OP_SEQUENCE, "SEQUENCE", typed<SequenceArgs, SequenceResult, sequence_in_place>(), 0, 48);
  def(OP_SET_SSV, "SET_SSV", op_notsupp, 0, 8);
  def(OP_TEST_STATEID, "TEST_STATEID", typed<TestStateidArgs, TestStateidResult, test_stateid>(), 0,
      12);
  def(OP_WANT_DELEGATION, "WANT_DELEGATION",
      typed<WantDelegationArgs, WantDelegationResult, want_delegation>(), kNeedsFh | kModifies, 64);
  def(OP_DESTROY_CLIENTID, "DESTROY_CLIENTID",
      typed<ClientIdArgs, StatusResult, destroy_clientid>(), kSoleFirst | kModifies, 8);
  def(OP_RECLAIM_COMPLETE, "RECLAIM_COMPLETE",
      typed<ReclaimCompleteArgs, StatusResult, reclaim_complete>(), kModifies, 8);
  // NFSv4.2 operations (RFC 7862) are defined but not supported yet.
  const char* names42[] = {
      "ALLOCATE",    "COPY",           "COPY_NOTIFY",    "DEALLOCATE", "IO_ADVISE",  "LAYOUTERROR",
      "LAYOUTSTATS", "OFFLOAD_CANCEL", "OFFLOAD_STATUS", "READ_PLUS",  "SEEK",       "WRITE_SAME",
      "CLONE",       "GETXATTR",       "SETXATTR",       "LISTXATTRS", "REMOVEXATTR"};
  for (uint32_t op = OP_ALLOCATE; op <= OP_REMOVEXATTR; ++op) {
    def(op, names42[op - OP_ALLOCATE], op_notsupp, 0, 8, 2);
  }
  return t;
}

const std::array<OpDescriptor, kLastOp42 + 1>& table() {
  static const auto t = build_table();
  return t;
}

}  // namespace

const OpDescriptor* find_op(uint32_t op, uint32_t minorversion) {
  if (op >= table().size()) return nullptr;
  const OpDescriptor& d = table()[op];
  if (!d.run || minorversion < d.min_minor) return nullptr;
  return &d;
}

const char* opname(uint32_t op) {
  if (op < table().size() && table()[op].name) return table()[op].name;
  return op == OP_ILLEGAL ? "ILLEGAL" : "UNKNOWN";
}

}  // namespace dfs::nfs4
