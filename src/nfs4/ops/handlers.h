#pragma once
// Operation handlers, one function per NFSv4.1 operation, grouped by area in ops/*.cpp.

#include "nfs4/attributes.h"
#include "nfs4/compound.h"
#include "nfs4/op_types.h"

namespace dfs::nfs4::ops {

// delegation.cpp: another client's delegation of `file` that a change by this compound's
// client conflicts with is recalled, and the change waits (NFS4ERR_DELAY).
nfsstat4 recall_conflicting(Compound& c, const state::FileKey& file, state::RecallReason why);
// The same for the file `name` names in the current directory, if it is one.
nfsstat4 recall_conflicting_entry(Compound& c, const vfs::Node& dir, const std::string& name);

// session.cpp
nfsstat4 exchange_id(Compound&, ExchangeIdArgs&, ExchangeIdResult&);
nfsstat4 create_session(Compound&, CreateSessionArgs&, CreateSessionResult&);
nfsstat4 destroy_session(Compound&, SessionIdArgs&, StatusResult&);
nfsstat4 destroy_clientid(Compound&, ClientIdArgs&, StatusResult&);
nfsstat4 bind_conn_to_session(Compound&, BindConnArgs&, BindConnResult&);
nfsstat4 backchannel_ctl(Compound&, BackchannelCtlArgs&, StatusResult&);
nfsstat4 reclaim_complete(Compound&, ReclaimCompleteArgs&, StatusResult&);
nfsstat4 sequence_in_place(Compound&, SequenceArgs&, SequenceResult&);

// filehandle.cpp
nfsstat4 putfh(Compound&, PutFhArgs&, StatusResult&);
nfsstat4 putrootfh(Compound&, Void&, StatusResult&);
nfsstat4 putpubfh(Compound&, Void&, StatusResult&);
nfsstat4 getfh(Compound&, Void&, GetFhResult&);
nfsstat4 savefh(Compound&, Void&, StatusResult&);
nfsstat4 restorefh(Compound&, Void&, StatusResult&);
nfsstat4 lookup(Compound&, ComponentArgs&, StatusResult&);
nfsstat4 lookupp(Compound&, Void&, StatusResult&);
nfsstat4 secinfo(Compound&, ComponentArgs&, SecInfoResult&);
nfsstat4 secinfo_no_name(Compound&, SecInfoNoNameArgs&, SecInfoResult&);

// attributes.cpp
nfsstat4 getattr(Compound&, GetattrArgs&, GetattrResult&);
nfsstat4 setattr(Compound&, SetattrArgs&, SetattrResult&);
nfsstat4 verify(Compound&, VerifyArgs&, StatusResult&);
nfsstat4 nverify(Compound&, VerifyArgs&, StatusResult&);
nfsstat4 access(Compound&, AccessArgs&, AccessResult&);

// directory.cpp
nfsstat4 create(Compound&, CreateArgs&, CreateResult&);
nfsstat4 remove(Compound&, ComponentArgs&, ChangeInfoResult&);
nfsstat4 rename(Compound&, RenameArgs&, RenameResult&);
nfsstat4 link(Compound&, ComponentArgs&, ChangeInfoResult&);
nfsstat4 readlink(Compound&, Void&, ReadlinkResult&);
nfsstat4 readdir(Compound&, ReaddirArgs&, ReaddirResult&);

// io.cpp
nfsstat4 read(Compound&, ReadArgs&, ReadResult&);
nfsstat4 write(Compound&, WriteArgs&, WriteResult&);
nfsstat4 commit(Compound&, CommitArgs&, CommitResult&);

// open.cpp
nfsstat4 open(Compound&, OpenArgs&, OpenResult&);
nfsstat4 want_delegation(Compound&, WantDelegationArgs&, WantDelegationResult&);
// Grants `client` a delegation of `type` on the current file (lock_file(key) held) when its
// session can be called back and nobody's state conflicts (§10.4): fills `out` and returns
// nullopt, or returns why not.
std::optional<why_no_delegation4> offer_delegation(Compound& c, state::ClientRecord& client,
                                                   const state::FileKey& key, state::DelegType type,
                                                   OpenDelegation& out);
nfsstat4 open_downgrade(Compound&, OpenDowngradeArgs&, StateidResult&);
nfsstat4 close(Compound&, StateidSeqArgs&, StateidResult&);

// lock.cpp
nfsstat4 lock(Compound&, LockArgs&, LockResult&);
nfsstat4 lockt(Compound&, LocktArgs&, LocktResult&);
nfsstat4 locku(Compound&, LockuArgs&, StateidResult&);

// stateid.cpp
nfsstat4 test_stateid(Compound&, TestStateidArgs&, TestStateidResult&);
nfsstat4 free_stateid(Compound&, StateidArgs&, StatusResult&);
nfsstat4 delegreturn(Compound&, StateidArgs&, StatusResult&);

// Shared helpers.
// A name component as NFSv4 requires (§14.2): not empty, no "." / ".." / "/", not too long.
nfsstat4 check_name(const std::string& name);
// The current filehandle (or `node`) must be a directory: NFS4ERR_NOTDIR otherwise (symlinks
// included).
nfsstat4 require_dir(Compound& c);
nfsstat4 require_dir_node(const vfs::Node& node);
// An object of type `t` where a regular file is needed: OK, or ISDIR, SYMLINK, WRONG_TYPE
// (READ §18.22.3, WRITE §18.32.4, COMMIT, LOCK/LOCKT/LOCKU §18.10.3-§18.12.3, OPEN §18.16.3).
nfsstat4 regular_file_status(vfs::FileType t);
// The current filehandle must be a regular file (regular_file_status of its type).
nfsstat4 require_regular(Compound& c);
// Writes are refused on a read-only file system or share (ROFS).
bool read_only(const Compound& c, const vfs::Node& node);
// What attribute encoding needs about the current object, whose attributes are `attrs`.
AttrSource current_attr_source(const Compound& c, const vfs::Attributes& attrs);

}  // namespace dfs::nfs4::ops
