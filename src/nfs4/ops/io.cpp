// Data operations: READ (§18.22), WRITE (§18.32) and COMMIT (§18.3).

#include "nfs4/errors.h"
#include "nfs4/ops/handlers.h"
#include "nfs4/state/state_manager.h"

namespace dfs::nfs4::ops {
namespace {

// I/O under a special stateid has no OPEN whose access check covers it: check here.
nfsstat4 check_anonymous_access(Compound& c, const Stateid& s, uint32_t need) {
  if (!state::StateManager::is_anonymous(s) && !state::StateManager::is_bypass(s)) {
    return NFS4_OK;
  }
  auto granted = c.current.node.fs->access(c.identity(), c.current.node.inode, need);
  if (!granted.ok()) return to_nfs(granted.status());
  return (*granted & need) == need ? NFS4_OK : NFS4ERR_ACCESS;
}

}  // namespace

nfsstat4 read(Compound& c, ReadArgs& a, ReadResult& r) {
  if (auto st = require_regular(c); st != NFS4_OK) return st;
  if (auto st = c.resolve_stateid(a.stateid); st != NFS4_OK) return st;
  std::vector<state::Recall> recalls;
  if (auto st = c.svc.state.check_io(c.client(), a.stateid, c.current.key(), false, &recalls);
      st != NFS4_OK) {
    c.svc.send_recalls(recalls);
    return st;
  }
  if (auto st = check_anonymous_access(c, a.stateid, vfs::kAccessRead); st != NFS4_OK) return st;
  // Never more than the setting allows, nor more than fits in the reply (§18.22.3 lets the
  // server return less than asked).
  size_t budget = c.reply_budget();
  size_t room = budget > 64 ? budget - 64 : 0;
  size_t count = std::min<size_t>({a.count, c.settings->max_read_size, room});
  auto res = c.current.node.fs->read(c.current.node.inode, a.offset, count);
  if (!res.ok()) return to_nfs(res.status());
  r.ok.eof = res->eof;
  const size_t n = res->data.size();  // before the pieces move out
  r.ok.pieces = std::move(res->data.pieces);
  if (auto* o = c.svc.observer()) o->bytes_read(n);
  return NFS4_OK;
}

nfsstat4 write(Compound& c, WriteArgs& a, WriteResult& r) {
  if (auto st = require_regular(c); st != NFS4_OK) return st;
  if (a.stable > FILE_SYNC4) return NFS4ERR_INVAL;
  if (auto st = c.resolve_stateid(a.stateid); st != NFS4_OK) return st;
  std::vector<state::Recall> recalls;
  if (auto st = c.svc.state.check_io(c.client(), a.stateid, c.current.key(), true, &recalls);
      st != NFS4_OK) {
    c.svc.send_recalls(recalls);
    return st;
  }
  if (read_only(c, c.current.node)) return NFS4ERR_ROFS;
  if (auto st = check_anonymous_access(c, a.stateid, vfs::kAccessWrite); st != NFS4_OK) return st;
  if (a.data.size() > c.settings->max_write_size) return NFS4ERR_INVAL;
  bool sync = a.stable != UNSTABLE4;
  auto& fs = *c.current.node.fs;
  auto res = a.data.out_of_line
                 ? fs.write_out_of_line(c.current.node.inode, a.offset, *a.data.out_of_line, sync)
                 : fs.write(c.current.node.inode, a.offset, a.data.bytes, sync);
  if (!res.ok()) return to_nfs(res.status());
  r.ok.count = static_cast<uint32_t>(res->count);
  r.ok.committed = sync ? FILE_SYNC4 : UNSTABLE4;
  r.ok.writeverf = c.svc.write_verifier();
  if (auto* o = c.svc.observer()) o->bytes_written(res->count, a.data.out_of_line != nullptr);
  return NFS4_OK;
}

nfsstat4 commit(Compound& c, CommitArgs& a, CommitResult& r) {
  if (auto st = require_regular(c); st != NFS4_OK) return st;
  if (a.count != 0 && a.offset > UINT64_MAX - a.count) return NFS4ERR_INVAL;
  if (auto st = to_nfs(c.current.node.fs->commit(c.current.node.inode)); st != NFS4_OK) return st;
  r.ok.writeverf = c.svc.write_verifier();
  return NFS4_OK;
}

}  // namespace dfs::nfs4::ops
