// Attribute operations: GETATTR (§18.7), SETATTR (§18.30), VERIFY (§18.31), NVERIFY
// (§18.15) and ACCESS (§18.1).

#include "nfs4/attributes.h"
#include "nfs4/errors.h"
#include "nfs4/ops/handlers.h"

namespace dfs::nfs4::ops {
namespace {

// The file's attributes as the holder of its write delegation sees them (§10.4.3): its size,
// and a change attribute newer than ours if it has changed the file since it was granted
// (its change or size differ from ours). Without an answer, ours.
vfs::Attributes with_holder_view(vfs::Attributes attrs,
                                 const std::optional<CallbackService::HolderAttrs>& holder) {
  if (!holder) return attrs;
  if (holder->change != attrs.change || holder->size != attrs.size) {
    attrs.change += 1;
    attrs.size = holder->size;
  }
  return attrs;
}

// GETATTR as the last operation of its COMPOUND waits (without blocking anything) for the
// holder's CB_GETATTR answer, then encodes the result.
void defer_for_holder(Compound& c, const Bitmap& request, const state::Recall& holder) {
  c.deferred = [svc = &c.svc, current = c.current, settings = c.settings,
                mounted_on = c.svc.ns.mounted_on(c.current.node), request,
                holder](Compound::FinishDeferred finish) {
    svc->callbacks.getattr(
        holder, [current, settings, mounted_on, request,
                 finish = std::move(finish)](std::optional<CallbackService::HolderAttrs> seen) {
          GetattrResult r;
          auto attrs = current.node.fs->getattr(current.node.inode);
          if (!attrs.ok()) {
            r.status = to_nfs(attrs.status());
          } else {
            const vfs::Attributes view = with_holder_view(*attrs, seen);
            AttrSource src;
            src.attrs = &view;
            src.fh = &current.fh;
            src.fs = current.node.fs.get();
            src.mounted_on_fileid = mounted_on;
            src.settings = settings.get();
            r.status = encode_attrs(request, src, r.ok.attrs);
          }
          xdr::ByteBuffer out;
          xdr::Encoder e(out);
          xdr::io(e, r);
          finish(std::move(out), r.status);
        });
  };
}

}  // namespace

nfsstat4 getattr(Compound& c, GetattrArgs& a, GetattrResult& r) {
  if (!(a.request & write_only_attrs()).empty()) return NFS4ERR_INVAL;
  // Size and change of a file another client holds a write delegation on are the holder's
  // to know (§10.4.3). As the last operation of its COMPOUND, GETATTR asks the holder
  // (CB_GETATTR) and answers when it has; elsewhere in a COMPOUND the delegation is recalled
  // and the caller told to retry (the holder writes back, and the answer is then right).
  if (a.request.test(FATTR4_SIZE) || a.request.test(FATTR4_CHANGE)) {
    if (c.may_defer()) {
      if (auto holder = c.svc.state.write_delegation_holder(c.client(), c.current.key())) {
        defer_for_holder(c, a.request, *holder);
        return NFS4_OK;
      }
    }
    std::vector<state::Recall> recalls;
    nfsstat4 st = c.svc.state.delegation_conflict(
        c.client(), c.current.key(), state::DelegAccess::kRead, state::RecallReason::kIo, recalls);
    c.svc.send_recalls(recalls);
    if (st != NFS4_OK) return st;
  }
  auto attrs = c.current.node.fs->getattr(c.current.node.inode);
  if (!attrs.ok()) return to_nfs(attrs.status());
  return encode_attrs(a.request, current_attr_source(c, *attrs), r.ok.attrs);
}

nfsstat4 setattr(Compound& c, SetattrArgs& a, SetattrResult& r) {
  vfs::SetAttributes set;
  if (auto st = decode_settable(a.attrs, set); st != NFS4_OK) return st;
  if (read_only(c, c.current.node)) return NFS4ERR_ROFS;
  if (set.size) {
    // Changing the size is a write: the stateid must allow it (§18.30.3).
    if (auto st = c.resolve_stateid(a.stateid); st != NFS4_OK) return st;
    auto attrs = c.current.node.fs->getattr(c.current.node.inode);
    if (!attrs.ok()) return to_nfs(attrs.status());
    if (attrs->type == vfs::FileType::kDirectory) return NFS4ERR_ISDIR;
    if (attrs->type != vfs::FileType::kRegular) return NFS4ERR_INVAL;
    std::vector<state::Recall> recalls;
    if (auto st = c.svc.state.check_io(c.client(), a.stateid, c.current.key(), true, &recalls);
        st != NFS4_OK) {
      c.svc.send_recalls(recalls);
      return st;
    }
  }
  // Any attribute change by another client conflicts with a delegation (§10.4.1).
  if (auto st = recall_conflicting(c, c.current.key(), state::RecallReason::kSetattr);
      st != NFS4_OK) {
    return st;
  }
  auto res = c.current.node.fs->setattr(c.identity(), c.current.node.inode, set);
  if (!res.ok()) return to_nfs(res.status());
  r.attrsset = a.attrs.mask;
  return NFS4_OK;
}

namespace {

nfsstat4 compare(Compound& c, const Fattr& given, bool& same) {
  auto attrs = c.current.node.fs->getattr(c.current.node.inode);
  if (!attrs.ok()) return to_nfs(attrs.status());
  return compare_attrs(given, current_attr_source(c, *attrs), same);
}

}  // namespace

nfsstat4 verify(Compound& c, VerifyArgs& a, StatusResult&) {
  bool same = false;
  if (auto st = compare(c, a.attrs, same); st != NFS4_OK) return st;
  return same ? NFS4_OK : NFS4ERR_NOT_SAME;
}

nfsstat4 nverify(Compound& c, VerifyArgs& a, StatusResult&) {
  bool same = false;
  if (auto st = compare(c, a.attrs, same); st != NFS4_OK) return st;
  return same ? NFS4ERR_SAME : NFS4_OK;
}

nfsstat4 access(Compound& c, AccessArgs& a, AccessResult& r) {
  auto attrs = c.current.node.fs->getattr(c.current.node.inode);
  if (!attrs.ok()) return to_nfs(attrs.status());
  const bool dir = attrs->type == vfs::FileType::kDirectory;
  // Which ACCESS4 bits mean something for this type of object (§18.1.3).
  uint32_t meaningful = ACCESS4_READ | ACCESS4_MODIFY | ACCESS4_EXTEND |
                        (dir ? (ACCESS4_LOOKUP | ACCESS4_DELETE) : ACCESS4_EXECUTE);
  uint32_t asked = a.access & meaningful;
  uint32_t want = 0;
  if (asked & ACCESS4_READ) want |= vfs::kAccessRead;
  if (asked & (ACCESS4_MODIFY | ACCESS4_EXTEND | ACCESS4_DELETE)) want |= vfs::kAccessWrite;
  if (asked & (ACCESS4_LOOKUP | ACCESS4_EXECUTE)) want |= vfs::kAccessExecute;
  auto granted = c.current.node.fs->access(c.identity(), c.current.node.inode, want);
  if (!granted.ok()) return to_nfs(granted.status());
  bool ro = read_only(c, c.current.node);
  uint32_t result = 0;
  if ((asked & ACCESS4_READ) && (*granted & vfs::kAccessRead)) result |= ACCESS4_READ;
  if (!ro && (*granted & vfs::kAccessWrite)) {
    result |= asked & (ACCESS4_MODIFY | ACCESS4_EXTEND | ACCESS4_DELETE);
  }
  if (*granted & vfs::kAccessExecute) result |= asked & (ACCESS4_LOOKUP | ACCESS4_EXECUTE);
  r.ok.supported = asked;
  r.ok.access = result;
  return NFS4_OK;
}

}  // namespace dfs::nfs4::ops
