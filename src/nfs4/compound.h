#pragma once
// The state of one COMPOUND while its operations run (RFC 5661 §16.2.3): current and saved
// filehandles, current and saved stateids (§16.2.3.1.2), the session and slot of its
// SEQUENCE, and the caller. Operation handlers work only through this.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "nfs4/service.h"
#include "nfs4/types.h"
#include "rpc/auth.h"
#include "rpc/connection.h"
#include "vfs/namespace.h"

namespace dfs::nfs4 {

struct CurrentObject {
  bool set = false;
  Fh fh;
  vfs::Node node;
  state::FileKey key() const { return {node.fs_index, node.inode}; }
};

struct Compound {
  Compound(Nfs4Service& s, const rpc::Credentials& c, const std::shared_ptr<rpc::Connection>& cn)
      : svc(s), cred(c), conn(cn), settings(s.settings.get()) {}

  Nfs4Service& svc;
  const rpc::Credentials& cred;
  const std::shared_ptr<rpc::Connection>& conn;
  std::shared_ptr<const Settings> settings;
  uint32_t minorversion = 1;
  size_t op_index = 0;
  size_t op_count = 0;
  size_t request_size = 0;
  xdr::Encoder* reply = nullptr;  // the reply being built, for size budgeting

  CurrentObject current;
  CurrentObject saved;
  std::optional<Stateid> current_stateid;
  std::optional<Stateid> saved_stateid;

  std::shared_ptr<state::Session> session;
  uint32_t slotid = 0;
  bool cachethis = false;

  // An operation whose answer must wait for a client's callback (GETATTR of a file another
  // client holds a write delegation on waits for CB_GETATTR, §10.4.3) sets `deferred` and
  // returns; what it encoded is dropped. The COMPOUND's reply so far is put aside and
  // `deferred` is called with `finish`, which takes the operation's encoded result (status
  // first) and sends the reply, from whichever thread the wait ends on. Nothing blocks.
  using FinishDeferred = std::function<void(xdr::ByteBuffer result, nfsstat4 status)>;
  std::function<void(FinishDeferred)> deferred;
  // Only the last operation of a sequenced COMPOUND may defer (nothing after it depends on
  // its result, and its slot holds the retry off), and only while the reply so far is plain
  // bytes.
  bool may_defer() const {
    return session && op_index + 1 == op_count && reply && !reply->has_splices();
  }

  state::ClientRecord* client() const { return session ? session->client.get() : nullptr; }

  // The caller as the file model sees it, after the current share's root squashing.
  vfs::Identity identity() const;
  // Makes `node` the current object; fails with STALE if it vanished, ACCESS if the share's
  // host or user list excludes the caller.
  nfsstat4 set_current(const vfs::Node& node);
  // The share's access lists (entering a share is where exports are enforced).
  nfsstat4 check_share_access(const vfs::Node& node) const;
  // Replaces the special "current stateid" (seqid 1, other 0) by the compound's current one.
  nfsstat4 resolve_stateid(Stateid& s) const;
  // Bytes still allowed in the reply by the session's channel attributes.
  size_t reply_budget() const;
};

// The special stateid meaning "the current stateid" (§16.2.3.1.2).
inline bool is_current_stateid(const Stateid& s) {
  if (s.seqid != 1) return false;
  for (uint8_t b : s.other) {
    if (b) return false;
  }
  return true;
}

}  // namespace dfs::nfs4
