#pragma once
// Arguments and results of each NFSv4.1 operation (RFC 5662 §... "Operation arguments and
// results"), declared once for both the server and the project's own client.

#include <optional>
#include <string>
#include <vector>

#include "nfs4/types.h"

namespace dfs::nfs4 {

// §15.1.1.1: a fixed enumeration holding a value not valid for the enum is malformed input
// (NFS4ERR_BADXDR), like a short buffer; the decoder is failed so the op answers that.
template <class Ar, class E>
void check_enum(Ar& ar, E v, E lo, E hi) {
  if constexpr (Ar::kDecoding) {
    if (v < lo || v > hi) ar.fail();
  }
}

// ---- filehandle and namespace ----------------------------------------------------------

struct PutFhArgs {
  Fh object;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.object);
  }
};
struct GetFhOk {
  Fh object;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.object);
  }
};
using GetFhResult = OkResult<GetFhOk>;

struct ComponentArgs {  // LOOKUP, SECINFO
  std::string name;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.name);
  }
};

struct AccessArgs {
  uint32_t access = 0;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.access);
  }
};
struct AccessOk {
  uint32_t supported = 0;
  uint32_t access = 0;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.supported, s.access);
  }
};
using AccessResult = OkResult<AccessOk>;

struct GetattrArgs {
  Bitmap request;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.request);
  }
};
struct GetattrOk {
  Fattr attrs;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.attrs);
  }
};
using GetattrResult = OkResult<GetattrOk>;

struct SetattrArgs {
  Stateid stateid;
  Fattr attrs;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.stateid, s.attrs);
  }
};
// SETATTR4res carries attrsset whatever the status (§18.30).
struct SetattrResult {
  nfsstat4 status = NFS4_OK;
  Bitmap attrsset;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.status, s.attrsset);
  }
};

struct VerifyArgs {  // VERIFY and NVERIFY
  Fattr attrs;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.attrs);
  }
};

// createtype4 (§18.4): the type and its type-specific data.
struct CreateType {
  nfs_ftype4 type = NF4DIR;
  std::string linkdata;  // NF4LNK
  SpecData devdata;      // NF4BLK, NF4CHR
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.type);
    check_enum(ar, s.type, NF4REG, NF4NAMEDATTR);
    switch (s.type) {
      case NF4LNK:
        ar(s.linkdata);
        break;
      case NF4BLK:
      case NF4CHR:
        ar(s.devdata);
        break;
      default:
        break;  // void; the server answers NFS4ERR_BADTYPE for types it cannot create
    }
  }
};
struct CreateArgs {
  CreateType objtype;
  std::string objname;
  Fattr createattrs;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.objtype, s.objname, s.createattrs);
  }
};
struct CreateOk {
  ChangeInfo cinfo;
  Bitmap attrset;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.cinfo, s.attrset);
  }
};
using CreateResult = OkResult<CreateOk>;

struct ChangeInfoOk {  // LINK, REMOVE
  ChangeInfo cinfo;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.cinfo);
  }
};
using ChangeInfoResult = OkResult<ChangeInfoOk>;

struct RenameArgs {
  std::string oldname;
  std::string newname;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.oldname, s.newname);
  }
};
struct RenameOk {
  ChangeInfo source;
  ChangeInfo target;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.source, s.target);
  }
};
using RenameResult = OkResult<RenameOk>;

struct ReadlinkOk {
  std::string link;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.link);
  }
};
using ReadlinkResult = OkResult<ReadlinkOk>;

struct ReaddirArgs {
  uint64_t cookie = 0;
  Verifier cookieverf{};
  uint32_t dircount = 0;
  uint32_t maxcount = 0;
  Bitmap attr_request;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.cookie, s.cookieverf, s.dircount, s.maxcount, s.attr_request);
  }
};
struct DirEntry4 {
  uint64_t cookie = 0;
  std::string name;
  Fattr attrs;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.cookie, s.name, s.attrs);
  }
};
// READDIR4resok: the entries travel as a linked list (entry4 *nextentry).
struct ReaddirOk {
  Verifier cookieverf{};
  std::vector<DirEntry4> entries;
  bool eof = false;

  static void xdr(xdr::Decoder& d, ReaddirOk& s) {
    d(s.cookieverf);
    bool follows = false;
    while (d.boolean(follows) && follows) {
      // Each entry is at least 20 bytes: refuse lists longer than the record can hold.
      if (d.remaining() < 20) {
        d.fail();
        return;
      }
      s.entries.emplace_back();
      d(s.entries.back());
    }
    d(s.eof);
  }
  static void xdr(xdr::Encoder& e, const ReaddirOk& s) {
    e(s.cookieverf);
    for (const auto& entry : s.entries) {
      e.boolean(true);
      e(entry);
    }
    e.boolean(false);
    e.boolean(s.eof);
  }
};
using ReaddirResult = OkResult<ReaddirOk>;

// secinfo4 (§18.29).
struct SecInfo {
  uint32_t flavor = 1;
  std::vector<uint8_t> oid;  // RPCSEC_GSS only
  uint32_t qop = 0;
  uint32_t service = RPC_GSS_SVC_NONE;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.flavor);
    if (s.flavor == 6) ar(s.oid, s.qop, s.service);
  }
};
struct SecInfoOk {
  std::vector<SecInfo> flavors;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.flavors);
  }
};
using SecInfoResult = OkResult<SecInfoOk>;

struct SecInfoNoNameArgs {
  uint32_t style = SECINFO_STYLE4_CURRENT_FH;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.style);
  }
};

// ---- I/O ---------------------------------------------------------------------------------

struct ReadArgs {
  Stateid stateid;
  uint64_t offset = 0;
  uint32_t count = 0;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.stateid, s.offset, s.count);
  }
};
struct ReadOk {
  bool eof = false;
  // The data as a list of pieces (server side, spliced without copying) or one view into
  // the received record (client side).
  std::vector<xdr::DataRef> pieces;

  static void xdr(xdr::Decoder& d, ReadOk& s) {
    d(s.eof);
    s.pieces.resize(1);
    d(s.pieces[0]);
  }
  static void xdr(xdr::Encoder& e, const ReadOk& s) {
    e(s.eof);
    size_t total = 0;
    for (const auto& p : s.pieces)
      total += p.bytes.size();
    e.u32(static_cast<uint32_t>(total));
    for (const auto& p : s.pieces)
      e.spliced_raw(p);
    e.pad_to_word(total);
  }
};
using ReadResult = OkResult<ReadOk>;

struct WriteArgs {
  Stateid stateid;
  uint64_t offset = 0;
  stable_how4 stable = UNSTABLE4;
  xdr::InboundData data;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.stateid, s.offset, s.stable);
    check_enum(ar, s.stable, UNSTABLE4, FILE_SYNC4);
    ar(s.data);
  }
};
struct WriteOk {
  uint32_t count = 0;
  stable_how4 committed = UNSTABLE4;
  Verifier writeverf{};
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.count, s.committed, s.writeverf);
  }
};
using WriteResult = OkResult<WriteOk>;

struct CommitArgs {
  uint64_t offset = 0;
  uint32_t count = 0;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.offset, s.count);
  }
};
struct CommitOk {
  Verifier writeverf{};
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.writeverf);
  }
};
using CommitResult = OkResult<CommitOk>;

// ---- OPEN and share state ------------------------------------------------------------------

// createhow4 inside openflag4 (§18.16).
struct OpenHow {
  opentype4 opentype = OPEN4_NOCREATE;
  createmode4 mode = UNCHECKED4;
  Fattr createattrs;    // UNCHECKED4, GUARDED4, EXCLUSIVE4_1
  Verifier verifier{};  // EXCLUSIVE4, EXCLUSIVE4_1
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.opentype);
    if (s.opentype != OPEN4_CREATE) return;
    ar(s.mode);
    switch (s.mode) {
      case UNCHECKED4:
      case GUARDED4:
        ar(s.createattrs);
        break;
      case EXCLUSIVE4:
        ar(s.verifier);
        break;
      case EXCLUSIVE4_1:
        ar(s.verifier, s.createattrs);
        break;
      default:
        if constexpr (Ar::kDecoding) ar.fail();
    }
  }
};

struct OpenClaim {
  open_claim_type4 type = CLAIM_NULL;
  std::string file;                       // CLAIM_NULL, CLAIM_DELEGATE_CUR, CLAIM_DELEGATE_PREV
  open_delegation_type4 delegate_type{};  // CLAIM_PREVIOUS
  Stateid delegate_stateid;               // CLAIM_DELEGATE_CUR, CLAIM_DELEG_CUR_FH
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.type);
    switch (s.type) {
      case CLAIM_NULL:
      case CLAIM_DELEGATE_PREV:
        ar(s.file);
        break;
      case CLAIM_PREVIOUS:
        ar(s.delegate_type);
        break;
      case CLAIM_DELEGATE_CUR:
        ar(s.delegate_stateid, s.file);
        break;
      case CLAIM_FH:
      case CLAIM_DELEG_PREV_FH:
        break;
      case CLAIM_DELEG_CUR_FH:
        ar(s.delegate_stateid);
        break;
      default:
        if constexpr (Ar::kDecoding) ar.fail();
    }
  }
};

struct OpenArgs {
  uint32_t seqid = 0;  // ignored in 4.1 (§18.16.3)
  uint32_t share_access = 0;
  uint32_t share_deny = 0;
  StateOwner owner;
  OpenHow how;
  OpenClaim claim;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.seqid, s.share_access, s.share_deny, s.owner, s.how, s.claim);
  }
};

struct SpaceLimit {
  uint32_t limitby = 1;  // NFS_LIMIT_SIZE = 1, NFS_LIMIT_BLOCKS = 2
  uint64_t filesize = 0;
  uint32_t num_blocks = 0;
  uint32_t bytes_per_block = 0;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.limitby);
    if (s.limitby == 1) {
      ar(s.filesize);
    } else if (s.limitby == 2) {
      ar(s.num_blocks, s.bytes_per_block);
    } else if constexpr (Ar::kDecoding) {
      ar.fail();
    }
  }
};

// open_delegation4 (§18.16).
struct OpenDelegation {
  open_delegation_type4 type = OPEN_DELEGATE_NONE;
  Stateid stateid;                           // READ, WRITE
  bool recall = false;                       // READ, WRITE
  SpaceLimit space_limit;                    // WRITE
  NfsAce permissions;                        // READ, WRITE
  why_no_delegation4 why = WND4_NOT_WANTED;  // NONE_EXT
  bool will_push_or_signal = false;          // NONE_EXT with CONTENTION or RESOURCE
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.type);
    switch (s.type) {
      case OPEN_DELEGATE_NONE:
        break;
      case OPEN_DELEGATE_READ:
        ar(s.stateid, s.recall, s.permissions);
        break;
      case OPEN_DELEGATE_WRITE:
        ar(s.stateid, s.recall, s.space_limit, s.permissions);
        break;
      case OPEN_DELEGATE_NONE_EXT:
        ar(s.why);
        if (s.why == WND4_CONTENTION || s.why == WND4_RESOURCE) ar(s.will_push_or_signal);
        break;
      default:
        if constexpr (Ar::kDecoding) ar.fail();
    }
  }
};

// WANT_DELEGATION (§18.49): the want bits and the claim (deleg_claim4).
struct WantDelegationArgs {
  uint32_t want = 0;
  uint32_t claim = CLAIM_FH;
  uint32_t previous_type = 0;  // CLAIM_PREVIOUS: the delegation type held before
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.want, s.claim);
    switch (s.claim) {
      case CLAIM_FH:
      case CLAIM_DELEG_PREV_FH:
        break;
      case CLAIM_PREVIOUS:
        ar(s.previous_type);
        break;
      default:
        if constexpr (Ar::kDecoding) ar.fail();
    }
  }
};
using WantDelegationResult = OkResult<OpenDelegation>;

struct OpenOk {
  Stateid stateid;
  ChangeInfo cinfo;
  uint32_t rflags = 0;
  Bitmap attrset;
  OpenDelegation delegation;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.stateid, s.cinfo, s.rflags, s.attrset, s.delegation);
  }
};
using OpenResult = OkResult<OpenOk>;

struct StateidSeqArgs {  // CLOSE
  uint32_t seqid = 0;
  Stateid stateid;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.seqid, s.stateid);
  }
};
struct StateidOk {
  Stateid stateid;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.stateid);
  }
};
using StateidResult = OkResult<StateidOk>;

struct OpenDowngradeArgs {
  Stateid stateid;
  uint32_t seqid = 0;
  uint32_t share_access = 0;
  uint32_t share_deny = 0;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.stateid, s.seqid, s.share_access, s.share_deny);
  }
};

struct StateidArgs {  // DELEGRETURN, FREE_STATEID
  Stateid stateid;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.stateid);
  }
};

struct TestStateidArgs {
  std::vector<Stateid> stateids;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.stateids);
  }
};
struct TestStateidOk {
  std::vector<nfsstat4> status_codes;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.status_codes);
  }
};
using TestStateidResult = OkResult<TestStateidOk>;

// ---- byte-range locks ----------------------------------------------------------------------

// locker4 (§18.10): a new lock owner derived from an open, or an existing lock stateid.
struct Locker {
  bool new_lock_owner = false;
  uint32_t open_seqid = 0;
  Stateid open_stateid;
  uint32_t lock_seqid = 0;
  StateOwner lock_owner;
  Stateid lock_stateid;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.new_lock_owner);
    if (s.new_lock_owner) {
      ar(s.open_seqid, s.open_stateid, s.lock_seqid, s.lock_owner);
    } else {
      ar(s.lock_stateid, s.lock_seqid);
    }
  }
};

struct LockArgs {
  nfs_lock_type4 locktype = READ_LT;
  bool reclaim = false;
  uint64_t offset = 0;
  uint64_t length = 0;
  Locker locker;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.locktype);
    check_enum(ar, s.locktype, READ_LT, WRITEW_LT);
    ar(s.reclaim, s.offset, s.length, s.locker);
  }
};

struct LockDenied {
  uint64_t offset = 0;
  uint64_t length = 0;
  nfs_lock_type4 locktype = READ_LT;
  StateOwner owner;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.offset, s.length, s.locktype, s.owner);
  }
};

// LOCK4res: a stateid on success, the conflicting lock on NFS4ERR_DENIED.
struct LockResult {
  nfsstat4 status = NFS4_OK;
  Stateid stateid;
  LockDenied denied;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.status);
    if (s.status == NFS4_OK) {
      ar(s.stateid);
    } else if (s.status == NFS4ERR_DENIED) {
      ar(s.denied);
    }
  }
};

struct LocktArgs {
  nfs_lock_type4 locktype = READ_LT;
  uint64_t offset = 0;
  uint64_t length = 0;
  StateOwner owner;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.locktype);
    check_enum(ar, s.locktype, READ_LT, WRITEW_LT);
    ar(s.offset, s.length, s.owner);
  }
};
struct LocktResult {
  nfsstat4 status = NFS4_OK;
  LockDenied denied;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.status);
    if (s.status == NFS4ERR_DENIED) ar(s.denied);
  }
};

struct LockuArgs {
  nfs_lock_type4 locktype = READ_LT;
  uint32_t seqid = 0;
  Stateid stateid;
  uint64_t offset = 0;
  uint64_t length = 0;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.locktype);
    check_enum(ar, s.locktype, READ_LT, WRITEW_LT);
    ar(s.seqid, s.stateid, s.offset, s.length);
  }
};

// ---- sessions and client ids ------------------------------------------------------------

struct ExchangeIdArgs {
  ClientOwner clientowner;
  uint32_t flags = 0;
  StateProtectArgs state_protect;
  std::vector<ImplId> client_impl_id;  // <1>
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.clientowner, s.flags, s.state_protect, s.client_impl_id);
  }
};
struct ExchangeIdOk {
  uint64_t clientid = 0;
  uint32_t sequenceid = 0;
  uint32_t flags = 0;
  StateProtectResult state_protect;
  ServerOwner server_owner;
  std::vector<uint8_t> server_scope;
  std::vector<ImplId> server_impl_id;  // <1>
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.clientid, s.sequenceid, s.flags, s.state_protect, s.server_owner);
    xdr::bounded(ar, s.server_scope, kOpaqueLimit);
    ar(s.server_impl_id);
  }
};
using ExchangeIdResult = OkResult<ExchangeIdOk>;

struct CreateSessionArgs {
  uint64_t clientid = 0;
  uint32_t sequence = 0;
  uint32_t flags = 0;
  ChannelAttrs fore;
  ChannelAttrs back;
  uint32_t cb_program = 0;
  std::vector<CallbackSecParms> sec_parms;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.clientid, s.sequence, s.flags, s.fore, s.back, s.cb_program);
    xdr::bounded(ar, s.sec_parms, kMaxCallbackSecParms);
  }
};
struct CreateSessionOk {
  SessionId sessionid{};
  uint32_t sequence = 0;
  uint32_t flags = 0;
  ChannelAttrs fore;
  ChannelAttrs back;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.sessionid, s.sequence, s.flags, s.fore, s.back);
  }
};
using CreateSessionResult = OkResult<CreateSessionOk>;

struct SessionIdArgs {  // DESTROY_SESSION
  SessionId sessionid{};
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.sessionid);
  }
};

struct ClientIdArgs {  // DESTROY_CLIENTID
  uint64_t clientid = 0;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.clientid);
  }
};

struct SequenceArgs {
  SessionId sessionid{};
  uint32_t sequenceid = 0;
  uint32_t slotid = 0;
  uint32_t highest_slotid = 0;
  bool cachethis = false;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.sessionid, s.sequenceid, s.slotid, s.highest_slotid, s.cachethis);
  }
};
struct SequenceOk {
  SessionId sessionid{};
  uint32_t sequenceid = 0;
  uint32_t slotid = 0;
  uint32_t highest_slotid = 0;
  uint32_t target_highest_slotid = 0;
  uint32_t status_flags = 0;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.sessionid, s.sequenceid, s.slotid, s.highest_slotid, s.target_highest_slotid,
       s.status_flags);
  }
};
using SequenceResult = OkResult<SequenceOk>;

struct BindConnArgs {
  SessionId sessionid{};
  channel_dir_from_client4 dir = CDFC4_FORE;
  bool use_conn_in_rdma_mode = false;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.sessionid, s.dir, s.use_conn_in_rdma_mode);
  }
};
struct BindConnOk {
  SessionId sessionid{};
  channel_dir_from_server4 dir = CDFS4_FORE;
  bool use_conn_in_rdma_mode = false;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.sessionid, s.dir, s.use_conn_in_rdma_mode);
  }
};
using BindConnResult = OkResult<BindConnOk>;

struct BackchannelCtlArgs {
  uint32_t cb_program = 0;
  std::vector<CallbackSecParms> sec_parms;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.cb_program);
    xdr::bounded(ar, s.sec_parms, kMaxCallbackSecParms);
  }
};

struct ReclaimCompleteArgs {
  bool one_fs = false;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.one_fs);
  }
};

}  // namespace dfs::nfs4
