// Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/<seed>): small
// valid inputs of each shape a target understands, built with the project's own encoders
// and its test client's COMPOUND builder, plus a few that are wrong on purpose. Run it after
// changing the wire types, then commit what changed:
//
//   build-ci/tests/fuzz/fuzz_seed_writer tests/fuzz/corpus

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/nfs_client.h"
#include "control/settings_model.h"
#include "nfs4/attributes.h"
#include "nfs4/callback_types.h"
#include "rest_client.h"
#include "rpc/auth.h"
#include "rpc/message.h"

namespace {

using namespace dfs;
using namespace dfs::nfs4;
using testing::CompoundBuilder;
using Bytes = std::vector<uint8_t>;

std::filesystem::path g_root;

void write(const std::string& target, const std::string& name, const Bytes& bytes) {
  const auto dir = g_root / target;
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<long>(bytes.size()));
}

Bytes bytes_of(const xdr::ByteBuffer& b) {
  return Bytes(b.data(), b.data() + b.size());
}

Bytes encode(const std::function<void(xdr::Encoder&)>& f) {
  xdr::ByteBuffer b;
  xdr::Encoder e(b);
  f(e);
  xdr::ByteBuffer flat;
  e.flatten_into(flat);
  return bytes_of(flat);
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

// ---- record_framer: limit choice, cut choice, then the stream --------------------------

Bytes fragment(const Bytes& body, bool last) {
  const uint32_t mark = static_cast<uint32_t>(body.size()) | (last ? 0x80000000u : 0);
  Bytes out = {static_cast<uint8_t>(mark >> 24), static_cast<uint8_t>(mark >> 16),
               static_cast<uint8_t>(mark >> 8), static_cast<uint8_t>(mark)};
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

void record_framer() {
  const Bytes small(24, 0x11), medium(300, 0x22);
  write("record_framer", "one_record", cat({{5, 3}, fragment(small, true)}));
  write("record_framer", "fragments_then_record",
        cat({{4, 0},
             fragment(small, false),
             fragment(medium, false),
             fragment(small, true),
             fragment(small, true)}));
  write("record_framer", "empty_fragments",
        cat({{5, 2}, fragment({}, false), fragment({}, false), fragment(small, true)}));
  write("record_framer", "too_large", cat({{2, 4}, fragment(small, true), fragment(medium, true)}));
  write("record_framer", "too_large_assembled",
        cat({{3, 1}, fragment(medium, false), fragment(small, true)}));
  write("record_framer", "incomplete_tail", cat({{6, 3}, fragment(small, true), {0x80, 0, 1}}));
}

// ---- rpc_header: one RPC record ------------------------------------------------------

Bytes call(uint32_t rpcvers, uint32_t prog, uint32_t vers, uint32_t proc, rpc::AuthFlavor cred,
           const Bytes& cred_body, rpc::AuthFlavor verf, const Bytes& args) {
  return encode([&](xdr::Encoder& e) {
    rpc::CallHeader h;
    h.xid = 0x01020304;
    h.rpc_version = rpcvers;
    h.program = prog;
    h.version = vers;
    h.procedure = proc;
    h.cred.flavor = cred;
    h.cred.body = cred_body;
    h.verf.flavor = verf;
    rpc::encode_call_header(e, h);
    e.buffer().append(args.data(), args.size());
  });
}

void rpc_header() {
  using rpc::AuthFlavor;
  constexpr uint32_t kTest = 0x20000000;  // rpc_header_fuzz.cpp's program
  const Bytes sys = rpc::encode_auth_sys(7, "client.example", 1000, 100, {100, 4, 24});
  const Bytes args = {0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o', 0, 0, 0};
  write("rpc_header", "echo_auth_sys",
        call(2, kTest, 2, 1, AuthFlavor::kSys, sys, AuthFlavor::kNone, args));
  write("rpc_header", "null_auth_none",
        call(2, kTest, 3, 0, AuthFlavor::kNone, {}, AuthFlavor::kNone, {}));
  write("rpc_header", "rpc_version_3",
        call(3, kTest, 2, 1, AuthFlavor::kNone, {}, AuthFlavor::kNone, {}));
  write("rpc_header", "no_such_program",
        call(2, 100003, 4, 1, AuthFlavor::kSys, sys, AuthFlavor::kNone, {}));
  write("rpc_header", "version_mismatch",
        call(2, kTest, 9, 1, AuthFlavor::kNone, {}, AuthFlavor::kNone, {}));
  write("rpc_header", "garbage_args",
        call(2, kTest, 2, 2, AuthFlavor::kNone, {}, AuthFlavor::kNone, args));
  write("rpc_header", "no_such_procedure",
        call(2, kTest, 2, 7, AuthFlavor::kNone, {}, AuthFlavor::kNone, {}));
  write("rpc_header", "gss_credential",
        call(2, kTest, 2, 1, AuthFlavor::kRpcsecGss, {0, 0, 0, 1}, AuthFlavor::kNone, {}));
  write("rpc_header", "bad_verifier",
        call(2, kTest, 2, 1, AuthFlavor::kNone, {}, AuthFlavor::kDh, {}));
  Bytes many_groups = rpc::encode_auth_sys(1, "m", 0, 0, std::vector<uint32_t>(16, 7));
  write("rpc_header", "sixteen_groups",
        call(2, kTest, 2, 0, AuthFlavor::kSys, many_groups, AuthFlavor::kSys, {}));
  write("rpc_header", "reply_success", encode([](xdr::Encoder& e) {
          rpc::encode_accepted_reply(e, 9, rpc::AcceptStat::kSuccess);
        }));
  write("rpc_header", "reply_auth_error",
        encode([](xdr::Encoder& e) { rpc::encode_auth_error(e, 9, rpc::AuthStat::kTooWeak); }));
  write("rpc_header", "reply_prog_mismatch",
        encode([](xdr::Encoder& e) { rpc::encode_prog_mismatch(e, 9, 1, 4); }));
}

// ---- compound_args: COMPOUND4args ----------------------------------------------------

// SEQUENCE with the placeholders compound_args_fuzz.cpp fills in: session id zeros, and
// sequence id 0 for "the slot's next".
CompoundBuilder sequenced(uint32_t slot = 0, uint32_t minor = 1) {
  CompoundBuilder b(minor, "fuzz");
  SequenceArgs s;
  s.slotid = slot;
  s.highest_slotid = 3;
  b.op(OP_SEQUENCE, s);
  return b;
}

// The current stateid (§16.2.3.1.2): whatever the last op returned.
Stateid current_stateid() {
  Stateid s;
  s.seqid = 1;
  return s;
}

Fattr attrs(std::initializer_list<std::pair<uint32_t, Bytes>> values) {
  Fattr f;
  for (const auto& [attr, v] : values) {
    f.mask.set(attr);
    f.vals.append(v.data(), v.size());
  }
  return f;
}
Bytes u32(uint32_t v) {
  return encode([v](xdr::Encoder& e) { e.u32(v); });
}
Bytes u64(uint64_t v) {
  return encode([v](xdr::Encoder& e) { e.u64(v); });
}
Bytes str(const std::string& s) {
  return encode([&s](xdr::Encoder& e) { e.string(s); });
}

void compound(const std::string& name, const CompoundBuilder& b) {
  write("compound_args", name, bytes_of(b.encode()));
}

void compound_args() {
  compound("lookup_getattr_readdir",
           sequenced()
               .op(OP_PUTROOTFH)
               .op(OP_LOOKUP, ComponentArgs{"export"})
               .op(OP_GETFH)
               .op(OP_GETATTR, GetattrArgs{Bitmap{0, 1, 3, 4, 8, 20, 33, 35, 36, 37, 53, 55}})
               .op(OP_ACCESS, AccessArgs{0x3f})
               .op(OP_READDIR, ReaddirArgs{0, {}, 4096, 8192, Bitmap{1, 4, 20}}));

  OpenArgs open;
  open.share_access = OPEN4_SHARE_ACCESS_BOTH;
  open.owner.clientid = 1;
  open.owner.owner = {'o', 'w', 'n'};
  open.how.opentype = OPEN4_CREATE;
  open.how.mode = UNCHECKED4;
  open.how.createattrs = attrs({{FATTR4_MODE, u32(0644)}});
  open.claim.file = "file";
  WriteArgs wr;
  wr.stateid = current_stateid();
  wr.stable = FILE_SYNC4;
  const Bytes data(100, 'd');
  wr.data.bytes = data;
  compound("open_write_read_close", sequenced()
                                        .op(OP_PUTROOTFH)
                                        .op(OP_LOOKUP, ComponentArgs{"export"})
                                        .op(OP_OPEN, open)
                                        .op(OP_WRITE, wr)
                                        .op(OP_READ, ReadArgs{current_stateid(), 0, 200})
                                        .op(OP_COMMIT, CommitArgs{0, 0})
                                        .op(OP_CLOSE, StateidSeqArgs{0, current_stateid()}));

  LockArgs lock;
  lock.locktype = WRITE_LT;
  lock.length = 10;
  lock.locker.new_lock_owner = true;
  lock.locker.open_stateid = current_stateid();
  lock.locker.lock_owner = {1, {'l', 'k'}};
  LocktArgs lockt;
  lockt.locktype = READ_LT;
  lockt.length = 100;
  lockt.owner = {1, {'t'}};
  compound("open_lock_test_unlock",
           sequenced(1)
               .op(OP_PUTROOTFH)
               .op(OP_LOOKUP, ComponentArgs{"export"})
               .op(OP_OPEN, open)
               .op(OP_LOCK, lock)
               .op(OP_LOCKT, lockt)
               .op(OP_LOCKU, LockuArgs{WRITE_LT, 0, current_stateid(), 0, 10})
               .op(OP_TEST_STATEID, TestStateidArgs{{current_stateid()}})
               .op(OP_FREE_STATEID, StateidArgs{current_stateid()}));

  OpenArgs excl = open;
  excl.how.mode = EXCLUSIVE4_1;
  excl.how.verifier = {1, 2, 3, 4, 5, 6, 7, 8};
  excl.claim.file = "excl";
  compound("open_exclusive_downgrade_delegreturn",
           sequenced()
               .op(OP_PUTROOTFH)
               .op(OP_LOOKUP, ComponentArgs{"export"})
               .op(OP_OPEN, excl)
               .op(OP_OPEN_DOWNGRADE, OpenDowngradeArgs{current_stateid(), 0, 1, 0})
               .op(OP_DELEGRETURN, StateidArgs{current_stateid()}));

  CreateArgs mkdir;
  mkdir.objtype.type = NF4DIR;
  mkdir.objname = "dir";
  mkdir.createattrs = attrs({{FATTR4_MODE, u32(0755)}});
  CreateArgs symlink;
  symlink.objtype.type = NF4LNK;
  symlink.objtype.linkdata = "../target";
  symlink.objname = "link";
  compound("create_rename_link_remove", sequenced()
                                            .op(OP_PUTROOTFH)
                                            .op(OP_LOOKUP, ComponentArgs{"export"})
                                            .op(OP_CREATE, mkdir)
                                            .op(OP_LOOKUPP)
                                            .op(OP_CREATE, symlink)
                                            .op(OP_READLINK)
                                            .op(OP_LOOKUPP)
                                            .op(OP_SAVEFH)
                                            .op(OP_RENAME, RenameArgs{"dir", "dir2"})
                                            .op(OP_LOOKUP, ComponentArgs{"link"})
                                            .op(OP_SAVEFH)
                                            .op(OP_LOOKUPP)
                                            .op(OP_LINK, ComponentArgs{"hard"})
                                            .op(OP_REMOVE, ComponentArgs{"hard"})
                                            .op(OP_RESTOREFH));

  OpenArgs plain = open;
  plain.claim.file = "attrs";
  SetattrArgs setattr;
  setattr.stateid = current_stateid();
  setattr.attrs =
      attrs({{FATTR4_SIZE, u64(4096)},
             {FATTR4_MODE, u32(0600)},
             {FATTR4_OWNER, str("1000")},
             {FATTR4_OWNER_GROUP, str("100@localdomain")},
             {FATTR4_TIME_ACCESS_SET, u32(SET_TO_SERVER_TIME4)},
             {FATTR4_TIME_MODIFY_SET, cat({u32(SET_TO_CLIENT_TIME4), u64(5), u32(7)})}});
  compound("setattr_verify", sequenced(2)
                                 .op(OP_PUTROOTFH)
                                 .op(OP_LOOKUP, ComponentArgs{"export"})
                                 .op(OP_OPEN, plain)
                                 .op(OP_SETATTR, setattr)
                                 .op(OP_VERIFY, VerifyArgs{attrs({{FATTR4_SIZE, u64(4096)}})})
                                 .op(OP_NVERIFY, VerifyArgs{attrs({{FATTR4_MODE, u32(0777)}})}));

  compound("secinfo", sequenced()
                          .op(OP_PUTPUBFH)
                          .op(OP_SECINFO, ComponentArgs{"export"})
                          .op(OP_LOOKUP, ComponentArgs{"export"})
                          .op(OP_SECINFO_NO_NAME, SecInfoNoNameArgs{SECINFO_STYLE4_PARENT}));

  ExchangeIdArgs ex;
  ex.clientowner.ownerid = {'s', 'e', 'e', 'd'};
  ex.flags = EXCHGID4_FLAG_USE_NON_PNFS;
  ex.client_impl_id.push_back(ImplId{"example.org", "seed", {1, 2}});
  compound("exchange_id", CompoundBuilder(1).op(OP_EXCHANGE_ID, ex));
  ExchangeIdArgs mach = ex;
  mach.state_protect.how = SP4_MACH_CRED;
  mach.state_protect.mach_ops.must_enforce = Bitmap{OP_CLOSE, OP_DESTROY_SESSION};
  compound("exchange_id_mach_cred", CompoundBuilder(1).op(OP_EXCHANGE_ID, mach));

  CreateSessionArgs cs;
  cs.clientid = 1;
  cs.sequence = 1;
  cs.flags = CREATE_SESSION4_FLAG_CONN_BACK_CHAN;
  cs.fore = {0, 1u << 20, 1u << 16, 1u << 16, 8, 4, {}};
  cs.back = {0, 4096, 4096, 0, 2, 1, {}};
  cs.cb_program = 0x40000000;
  CallbackSecParms sys;
  sys.flavor = 1;
  sys.sys.machinename = "client";
  cs.sec_parms = {sys, CallbackSecParms{}};
  compound("create_session", CompoundBuilder(1).op(OP_CREATE_SESSION, cs));
  compound("destroy_clientid", CompoundBuilder(1).op(OP_DESTROY_CLIENTID, ClientIdArgs{1}));
  compound("destroy_session", CompoundBuilder(1).op(OP_DESTROY_SESSION, SessionIdArgs{}));
  compound("bind_conn",
           CompoundBuilder(1).op(OP_BIND_CONN_TO_SESSION,
                                 BindConnArgs{SessionId{}, CDFC4_BACK_OR_BOTH, false}));
  compound("backchannel_ctl_reclaim",
           sequenced()
               .op(OP_BACKCHANNEL_CTL, BackchannelCtlArgs{0x40000001, {sys}})
               .op(OP_RECLAIM_COMPLETE, ReclaimCompleteArgs{true}));
  compound("want_delegation",
           sequenced()
               .op(OP_PUTROOTFH)
               .op(OP_LOOKUP, ComponentArgs{"export"})
               .op(OP_WANT_DELEGATION,
                   WantDelegationArgs{OPEN4_SHARE_ACCESS_WANT_READ_DELEG, CLAIM_FH, 0})
               .op(OP_WANT_DELEGATION, WantDelegationArgs{OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG,
                                                          CLAIM_PREVIOUS, OPEN_DELEGATE_WRITE}));
  compound("unsupported_ops",
           sequenced().op(OP_PUTROOTFH).op(OP_OPENATTR).op(OP_LAYOUTGET).op(OP_ILLEGAL));
  compound("minor2_ops", sequenced(0, 2).op(OP_PUTROOTFH).op(OP_SEEK).op(OP_ALLOCATE));
  compound("no_sequence", CompoundBuilder(1).op(OP_PUTROOTFH).op(OP_GETFH));
}

// ---- callback_reply: callback choice, then replies (16-bit length, bytes after the xid) ---

Bytes answer(const Bytes& after_xid) {
  Bytes out = {static_cast<uint8_t>(after_xid.size() >> 8), static_cast<uint8_t>(after_xid.size())};
  out.insert(out.end(), after_xid.begin(), after_xid.end());
  return out;
}

// An accepted reply (minus the xid) and its results.
Bytes accepted(rpc::AcceptStat stat, const Bytes& results) {
  Bytes r = encode([&](xdr::Encoder& e) { rpc::encode_accepted_reply(e, 0, stat); });
  r.erase(r.begin(), r.begin() + 4);
  r.insert(r.end(), results.begin(), results.end());
  return r;
}

// CB_COMPOUND4res with CB_SEQUENCE's result `seq_status` and a status for each later op.
Bytes cb_compound(nfsstat4 seq_status, uint32_t slot, std::initializer_list<uint32_t> ops) {
  return encode([&](xdr::Encoder& e) {
    e.u32(NFS4_OK);
    e.string("");
    e.u32(static_cast<uint32_t>(1 + ops.size()));
    e.u32(OP_CB_SEQUENCE);
    CbSequenceResult r;
    r.status = seq_status;
    r.ok.sequenceid = 1;
    r.ok.slotid = slot;
    r.ok.highest_slotid = 1;
    r.ok.target_highest_slotid = 1;
    xdr::io(e, r);
    for (uint32_t op : ops) {
      e.u32(op);
      e.u32(NFS4_OK);
    }
  });
}

void callback_reply() {
  const Bytes probe_ok = answer(accepted(rpc::AcceptStat::kSuccess, {}));
  auto ok = [](uint32_t slot) {
    return answer(
        accepted(rpc::AcceptStat::kSuccess, cb_compound(NFS4_OK, slot, {OP_CB_RECALL_ANY})));
  };
  // Byte 0: bit 0 adds CB_GETATTR, bits 1-2 the callbacks (1-3), bits 3-4 the slots (1-4).
  write("callback_reply", "one_ok", cat({{0x00}, probe_ok, ok(0)}));
  write("callback_reply", "getattr_ok",
        cat({{0x01},
             probe_ok,
             answer(accepted(rpc::AcceptStat::kSuccess,
                             cb_compound(NFS4_OK, 0, {OP_CB_RECALL_ANY, OP_CB_GETATTR})))}));
  write("callback_reply", "delay_then_ok",
        cat({{0x00},
             probe_ok,
             answer(accepted(rpc::AcceptStat::kSuccess, cb_compound(NFS4ERR_DELAY, 0, {}))),
             ok(0)}));
  write("callback_reply", "three_calls_two_slots_badslot",
        cat({{0x0c},
             probe_ok,
             ok(0),
             answer(accepted(rpc::AcceptStat::kSuccess, cb_compound(NFS4ERR_BADSLOT, 1, {}))),
             ok(0),
             ok(0)}));
  write("callback_reply", "misordered",
        cat({{0x08},
             probe_ok,
             answer(accepted(rpc::AcceptStat::kSuccess,
                             cb_compound(NFS4ERR_SEQ_MISORDERED, 0, {})))}));
  write("callback_reply", "badsession",
        cat({{0x00},
             probe_ok,
             answer(accepted(rpc::AcceptStat::kSuccess, cb_compound(NFS4ERR_BADSESSION, 0, {})))}));
  write("callback_reply", "prog_unavail",
        cat({{0x00},
             answer(accepted(rpc::AcceptStat::kProgUnavail, {})),
             answer(accepted(rpc::AcceptStat::kProgUnavail, {}))}));
  Bytes denied =
      encode([](xdr::Encoder& e) { rpc::encode_auth_error(e, 0, rpc::AuthStat::kBadCred); });
  denied.erase(denied.begin(), denied.begin() + 4);
  write("callback_reply", "denied", cat({{0x00}, probe_ok, answer(denied)}));
  // Regression: two callbacks, one slot, no answers. The first gives up and retires the
  // slot; the second used to wait forever in the queue (its completion never ran).
  write("callback_reply", "no_answer_two_calls_one_slot", {0x02});
  write("callback_reply", "short_results",
        cat({{0x00}, probe_ok, answer(accepted(rpc::AcceptStat::kSuccess, u32(0)))}));
}

// ---- rest_json: endpoint, then the body / token / path part ---------------------------

void rest(const std::string& name, uint8_t endpoint, const std::string& text) {
  Bytes b = {endpoint};
  b.insert(b.end(), text.begin(), text.end());
  write("rest_json", name, b);
}

void rest_json() {
  using nlohmann::json;
  const std::string user = fuzz::RestApi::kFuzzUser;
  rest("login", 0, json{{"username", user}, {"password", fuzz::RestApi::kFuzzUserPassword}}.dump());
  rest("login_wrong", 0, json{{"username", "admin"}, {"password", "not-the-password"}}.dump());
  rest("refresh", 1, json{{"refresh_token", "e30.e30.c2ln"}}.dump());
  rest("logout", 2, json{{"refresh_token", "x.y.z"}}.dump());
  rest("user_create", 3,
       json{{"username", "alice"},
            {"password", "password-alice"},
            {"role", "operator"},
            {"uid", 1234}}
           .dump());
  rest("user_create_bad_uid", 3,
       json{{"username", "bob"}, {"password", "password-bob"}, {"uid", -1}}.dump());
  rest("user_patch", 4, json{{"role", "operator"}, {"uid", nullptr}}.dump());
  rest("user_password", 5, json{{"password", "another-password"}}.dump());
  rest("share_create", 6,
       json{{"name", "s1"},
            {"path", "/fuzz/s1"},
            {"metadata_store", "memory"},
            {"block_store", "memory"},
            {"read_only", true},
            {"root_squash", false},
            {"allowed_hosts", {"10.0.0.0/8", "127.0.0.1", "::1"}},
            {"allowed_users", {user}}}
           .dump());
  rest("share_create_nested", 6, json{{"name", "s2"}, {"path", "/export/inner"}}.dump());
  rest("settings_put", 7, control::settings_to_json(Settings{}).dump());
  rest("settings_patch", 8,
       json{{"lease_time", 60}, {"delegations_enabled", false}, {"max_compound_ops", 64}}.dump());
  rest("settings_patch_range", 8, json{{"max_record_size", 1}}.dump());
  rest("token", 9, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZG1pbiJ9.c2ln");
  rest("user_get", 10, user);
  rest("client_sessions", 11, "0123456789abcdef");
  rest("settings_reset", 12, "lease_time");
  rest("connection", 13, "1");
  rest("not_json", 3, "{\"username\": ");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_ROOT (tests/fuzz/corpus)\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  record_framer();
  rpc_header();
  compound_args();
  callback_reply();
  rest_json();
  return 0;
}
