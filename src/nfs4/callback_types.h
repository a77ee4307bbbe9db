#pragma once
// The NFSv4.1 callback program's wire types (RFC 5662, "NFS4 callback"): CB_COMPOUND with
// CB_SEQUENCE first (RFC 8881 §20), and the callback operations the server sends. Declared
// once for both directions: the server encodes the calls and decodes the replies; the
// project's test client decodes the calls and encodes the replies.

#include <string>
#include <vector>

#include "nfs4/types.h"

namespace dfs::nfs4 {

// Callback operation numbers (RFC 5662, nfs_cb_opnum4).
enum cb_opnum : uint32_t {
  OP_CB_GETATTR = 3,
  OP_CB_RECALL = 4,
  OP_CB_LAYOUTRECALL = 5,
  OP_CB_NOTIFY = 6,
  OP_CB_PUSH_DELEG = 7,
  OP_CB_RECALL_ANY = 8,
  OP_CB_RECALLABLE_OBJ_AVAIL = 9,
  OP_CB_RECALL_SLOT = 10,
  OP_CB_SEQUENCE = 11,
  OP_CB_WANTS_CANCELLED = 12,
  OP_CB_NOTIFY_LOCK = 13,
  OP_CB_NOTIFY_DEVICEID = 14,
  OP_CB_ILLEGAL = 10044,
};

// RECALL_ANY type mask bits (§20.6.3).
inline constexpr uint32_t RCA4_TYPE_MASK_RDATA_DLG = 0;
inline constexpr uint32_t RCA4_TYPE_MASK_WDATA_DLG = 1;

struct ReferringCall {
  uint32_t sequenceid = 0;
  uint32_t slotid = 0;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.sequenceid, s.slotid);
  }
};
struct ReferringCallList {
  SessionId sessionid{};
  std::vector<ReferringCall> calls;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.sessionid, s.calls);
  }
};

struct CbSequenceArgs {
  SessionId sessionid{};
  uint32_t sequenceid = 0;
  uint32_t slotid = 0;
  uint32_t highest_slotid = 0;
  bool cachethis = false;
  std::vector<ReferringCallList> referring_call_lists;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.sessionid, s.sequenceid, s.slotid, s.highest_slotid, s.cachethis, s.referring_call_lists);
  }
};
struct CbSequenceOk {
  SessionId sessionid{};
  uint32_t sequenceid = 0;
  uint32_t slotid = 0;
  uint32_t highest_slotid = 0;
  uint32_t target_highest_slotid = 0;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.sessionid, s.sequenceid, s.slotid, s.highest_slotid, s.target_highest_slotid);
  }
};
using CbSequenceResult = OkResult<CbSequenceOk>;

struct CbRecallArgs {
  Stateid stateid;
  bool truncate = false;
  Fh fh;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.stateid, s.truncate, s.fh);
  }
};

struct CbGetattrArgs {
  Fh fh;
  Bitmap attr_request;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.fh, s.attr_request);
  }
};
struct CbGetattrOk {
  Fattr attributes;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.attributes);
  }
};
using CbGetattrResult = OkResult<CbGetattrOk>;

struct CbRecallAnyArgs {
  uint32_t objects_to_keep = 0;
  Bitmap type_mask;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.objects_to_keep, s.type_mask);
  }
};

struct CbNotifyLockArgs {
  Fh fh;
  StateOwner lock_owner;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.fh, s.lock_owner);
  }
};

// The head of CB_COMPOUND4args; the operations follow, each its number then its arguments.
struct CbCompoundHead {
  std::string tag;
  uint32_t minorversion = 1;
  uint32_t callback_ident = 0;  // unused in 4.1 (§20.9 of RFC 8881 says 0)
};

}  // namespace dfs::nfs4
