#pragma once
// The test client's side of the NFSv4.1 backchannel: reading the server's CB_COMPOUND calls
// (CB_SEQUENCE first, then CB_RECALL, CB_NOTIFY_LOCK, CB_RECALL_ANY, CB_GETATTR) and answering
// them as a client would, or not, or wrongly, as a test needs.

#include <optional>
#include <vector>

#include "client/nfs_client.h"
#include "nfs4/callback_types.h"
#include "rpc/client.h"

namespace dfs::testing {

struct CbOp {
  uint32_t op = 0;
  CbRecallArgs recall;           // OP_CB_RECALL
  CbNotifyLockArgs notify_lock;  // OP_CB_NOTIFY_LOCK
  CbRecallAnyArgs recall_any;    // OP_CB_RECALL_ANY
  CbGetattrArgs getattr;         // OP_CB_GETATTR
};

struct CbCall {
  uint32_t xid = 0;
  uint32_t program = 0;
  uint32_t procedure = 0;  // 0: CB_NULL, 1: CB_COMPOUND
  rpc::AuthFlavor flavor = rpc::AuthFlavor::kNone;
  uint32_t minorversion = 0;
  CbSequenceArgs sequence;
  std::vector<CbOp> ops;
};

// Decodes a call the server sent; nullopt if it is not a well-formed callback.
std::optional<CbCall> decode_callback(const rpc::IncomingCall& call);

// The results of a CB_COMPOUND: CB_SEQUENCE's (OK and the echo of its arguments, or
// `seq_status`), then every operation with `op_status` (none after a failed CB_SEQUENCE);
// CB_GETATTR answers `getattr` (no attributes without it).
xdr::ByteBuffer callback_reply(const CbCall& call, nfsstat4 seq_status = NFS4_OK,
                               nfsstat4 op_status = NFS4_OK, const Fattr* getattr = nullptr);

// Reads the next callback on `c`'s connection within its timeout.
std::optional<CbCall> next_callback(NfsClient& c);
// Reads callbacks, answering CB_NULL probes, until a CB_COMPOUND arrives; it is returned
// unanswered.
std::optional<CbCall> next_cb_compound(NfsClient& c);
// Answers every callback as a well-behaved client does (probes and CB_COMPOUNDs alike),
// whenever the client is waiting for a reply of its own.
void answer_callbacks(NfsClient& c);

}  // namespace dfs::testing
