// The backchannel and delegations over real sockets (RFC 8881 §2.10.3.1, §10.2, §10.4,
// §18.33, §20): the test client serves callbacks on its own connection, or does not, or
// answers them wrongly, and the server recalls, retries, revokes and reports as the RFC says.

#include <httplib.h>

#include <future>
#include <nlohmann/json.hpp>
#include <set>

#include "../unit/metrics_format_check.h"
#include "client/callbacks.h"
#include "nfs4_test_util.h"
#include "rpc/message.h"
#include "rpc/record_framer.h"

namespace dfs::testing {
namespace {

using namespace std::chrono_literals;

class DelegationTest : public ServerTest {
 protected:
  // How many CB_RECALLs the resend test answers wrongly before the last, right answer.
  static constexpr int kMaxAttemptsSeen = 4;
  // A client whose session has a back channel on its connection, answering callbacks while
  // it waits for its own replies, with the CB_NULL probe answered.
  std::unique_ptr<NfsClient> deleg_client(uint32_t back_slots = 1) {
    auto c = std::make_unique<NfsClient>("127.0.0.1", port());
    answer_callbacks(*c);
    c->establish("", 16, CREATE_SESSION4_FLAG_CONN_BACK_CHAN, back_slots);
    wait_path_up(*c);
    return c;
  }
  void wait_path_up(NfsClient& c) {
    ASSERT_TRUE(eventually(
        [&] {
          c.call(c.builder());  // a SEQUENCE: its wait answers the probe
          return daemon().nfs().callbacks.status(c.sessionid).path_up;
        },
        10s, 20ms));
  }
  uint32_t seq_flags(NfsClient& c, uint32_t slot = 15) {
    auto r = c.compound(sequenced(c, slot));
    auto seq = r.next<SequenceResult>(OP_SEQUENCE);
    EXPECT_EQ(seq.status, NFS4_OK);
    return seq.ok.status_flags;
  }
  double metric(const std::string& series) {
    httplib::Client h("127.0.0.1", daemon().metrics_port());
    auto r = h.Get("/metrics");
    return r ? metrics::testing::sample_value(r->body, series) : -1;
  }
  // Creates `name` in /export with an OPEN asking for `want`; returns the outcome.
  OpenOutcome open_new(NfsClient& c, const std::string& name, uint32_t access, uint32_t want) {
    return do_open(c, c.lookup_path("/export"),
                   open_args(c, name, access | want, OPEN4_SHARE_DENY_NONE, true));
  }
  OpenOutcome open_existing(NfsClient& c, const std::string& name, uint32_t access,
                            const std::string& owner = "owner") {
    return do_open(c, c.lookup_path("/export"),
                   open_args(c, name, access, OPEN4_SHARE_DENY_NONE, false, UNCHECKED4, owner));
  }
  static nfsstat4 delegreturn(NfsClient& c, const Fh& fh, const Stateid& s) {
    auto r = c.call(c.builder().op(OP_PUTFH, PutFhArgs{fh}).op(OP_DELEGRETURN, StateidArgs{s}));
    return r.status;
  }
};

TEST_F(DelegationTest, ReadDelegationIsRecalledByAWriterAndReturned) {
  auto a = deleg_client();
  auto o = open_new(*a, "shared", OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_ACCESS_WANT_READ_DELEG);
  ASSERT_EQ(o.status, NFS4_OK);
  ASSERT_EQ(o.ok.delegation.type, OPEN_DELEGATE_READ);
  const Stateid deleg = o.ok.delegation.stateid;
  EXPECT_EQ(daemon().nfs().state.delegations(a->clientid).size(), 1u);
  // The holder reads under its delegation stateid.
  EXPECT_EQ(do_read(*a, o.fh, deleg, 0, 16).status, NFS4_OK);

  // Another client opens it for writing: it must wait, and the holder is called back.
  a->rpc().set_call_handler(nullptr);
  auto b = client(0, 0);
  auto ob = open_existing(*b, "shared", OPEN4_SHARE_ACCESS_BOTH);
  EXPECT_EQ(ob.status, NFS4ERR_DELAY);
  auto cb = next_cb_compound(*a);
  ASSERT_TRUE(cb);
  ASSERT_EQ(cb->ops.size(), 1u);
  EXPECT_EQ(cb->ops[0].op, OP_CB_RECALL);
  EXPECT_EQ(cb->ops[0].recall.stateid.other, deleg.other);
  EXPECT_EQ(cb->ops[0].recall.fh, o.fh);
  EXPECT_EQ(cb->sequence.sessionid, a->sessionid);
  EXPECT_EQ(cb->sequence.sequenceid, 1u);
  EXPECT_EQ(cb->program, 0x40000000u);
  a->rpc().send_reply(cb->xid, callback_reply(*cb).span());
  // Until the holder returns it, the writer still waits.
  EXPECT_EQ(open_existing(*b, "shared", OPEN4_SHARE_ACCESS_BOTH).status, NFS4ERR_DELAY);
  EXPECT_EQ(delegreturn(*a, o.fh, deleg), NFS4_OK);
  auto again = open_existing(*b, "shared", OPEN4_SHARE_ACCESS_BOTH);
  EXPECT_EQ(again.status, NFS4_OK);
  EXPECT_EQ(again.ok.delegation.type, OPEN_DELEGATE_NONE);  // b asked for nothing: a's choice
  EXPECT_GE(metric("dittofs_nfs_delegations_recalled_total{reason=\"open\"}"), 1);
  EXPECT_GE(metric("dittofs_nfs_delegations_granted_total{type=\"read\"}"), 1);
  EXPECT_GE(metric("dittofs_nfs_backchannel_callbacks_total{op=\"CB_RECALL\"}"), 1);
  EXPECT_EQ(daemon().nfs().state.delegations(a->clientid).size(), 0u);
}

// A write delegation held by a client whose lease ran out (kept as a courtesy client while
// it holds state, §8.4.3) does not hold up another client: nobody would answer a recall, so
// the conflicting OPEN revokes it and goes ahead at once.
TEST_F(DelegationTest, ACourtesyClientsDelegationIsRevokedWithoutARecall) {
  server::Config cfg;
  cfg.nfs.lease_time = 2;
  start(cfg);
  auto a = deleg_client();
  auto w = open_new(*a, "courtesy", OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG);
  ASSERT_EQ(w.status, NFS4_OK);
  ASSERT_EQ(w.ok.delegation.type, OPEN_DELEGATE_WRITE);
  auto b = client(0, 0);
  ASSERT_TRUE(became_courtesy(daemon().nfs().state, *a, *b));
  auto ob = open_existing(*b, "courtesy", OPEN4_SHARE_ACCESS_READ);
  EXPECT_EQ(ob.status, NFS4_OK);
  // a keeps its open (nobody needed it) and learns of the revocation when it comes back.
  EXPECT_TRUE(seq_flags(*a) & SEQ4_STATUS_RECALLABLE_STATE_REVOKED);
}

TEST_F(DelegationTest, WantsAreAnsweredAndWriteDelegationsGranted) {
  auto a = deleg_client();
  auto none = open_new(*a, "f-no", OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_ACCESS_WANT_NO_DELEG);
  ASSERT_EQ(none.status, NFS4_OK);
  EXPECT_EQ(none.ok.delegation.type, OPEN_DELEGATE_NONE_EXT);
  EXPECT_EQ(none.ok.delegation.why, WND4_NOT_WANTED);
  auto w = open_new(*a, "f-w", OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG);
  ASSERT_EQ(w.status, NFS4_OK);
  EXPECT_EQ(w.ok.delegation.type, OPEN_DELEGATE_WRITE);
  // A write delegation covers writes by its holder.
  std::vector<uint8_t> data(100, 'w');
  WriteArgs wa;
  wa.stateid = w.ok.delegation.stateid;
  wa.stable = FILE_SYNC4;
  wa.data.bytes = data;
  EXPECT_EQ(a->call(a->builder().op(OP_PUTFH, PutFhArgs{w.fh}).op(OP_WRITE, wa)).status, NFS4_OK);
  // A second client reading it recalls the write delegation (§10.4.1).
  a->rpc().set_call_handler(nullptr);
  auto b = client(0, 0);
  auto ob = open_existing(*b, "f-w", OPEN4_SHARE_ACCESS_READ);
  EXPECT_EQ(ob.status, NFS4ERR_DELAY);
  auto cb = next_cb_compound(*a);
  ASSERT_TRUE(cb);
  EXPECT_EQ(cb->ops.at(0).op, OP_CB_RECALL);
  // No delegation is granted while the client has no working back channel.
  auto plain = std::make_unique<NfsClient>("127.0.0.1", port());
  plain->establish();
  auto p = open_new(*plain, "f-plain", OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_ACCESS_WANT_ANY_DELEG);
  ASSERT_EQ(p.status, NFS4_OK);
  EXPECT_EQ(p.ok.delegation.type, OPEN_DELEGATE_NONE_EXT);
  EXPECT_EQ(p.ok.delegation.why, WND4_RESOURCE);
}

// Another client's GETATTR of size and change of a file under a write delegation asks the
// holder (CB_GETATTR, §10.4.3) and answers with what it says, a change attribute newer than
// the server's when the holder has changed the file; the holder keeps its delegation. The
// GETATTR waits for the answer without holding up the server, and not past the callback
// timeout when the holder is silent.
TEST_F(DelegationTest, GetattrOfAWriteDelegatedFileAsksTheHolder) {
  server::Config cfg;
  cfg.nfs.callback_timeout = 1;
  start(cfg);
  auto a = deleg_client(4);
  auto w = open_new(*a, "cb-getattr", OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG);
  ASSERT_EQ(w.status, NFS4_OK);
  ASSERT_EQ(w.ok.delegation.type, OPEN_DELEGATE_WRITE);
  auto w2 = open_new(*a, "cb-silent", OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG);
  ASSERT_EQ(w2.ok.delegation.type, OPEN_DELEGATE_WRITE);
  const uint64_t change0 = a->getattr_u64(w.fh, FATTR4_CHANGE);
  const uint64_t size0 = a->getattr_u64(w.fh, FATTR4_SIZE);
  a->rpc().set_call_handler(nullptr);  // a answers by hand below
  auto b = client(0, 0);
  struct Seen {
    nfsstat4 status = NFS4ERR_SERVERFAULT;
    uint64_t change = 0;
    uint64_t size = 0;
  };
  // b's GETATTR (PUTFH, GETATTR: the last op) runs while a answers its callback.
  auto b_getattr = [&](const Fh& fh) {
    return std::async(std::launch::async, [&b, fh] {
      Seen s;
      Fattr f;
      s.status = b->getattr(fh, Bitmap{FATTR4_CHANGE, FATTR4_SIZE}, f);
      xdr::Decoder d(f.vals.span());
      d.u64(s.change);
      d.u64(s.size);
      return s;
    });
  };
  auto answer_getattr = [&](uint64_t change, uint64_t size) {
    auto cb = next_cb_compound(*a);
    ASSERT_TRUE(cb);
    ASSERT_EQ(cb->ops.size(), 1u);
    ASSERT_EQ(cb->ops[0].op, OP_CB_GETATTR) << "not a recall: the holder keeps its delegation";
    EXPECT_TRUE(cb->ops[0].getattr.attr_request.test(FATTR4_CHANGE));
    EXPECT_TRUE(cb->ops[0].getattr.attr_request.test(FATTR4_SIZE));
    EXPECT_EQ(cb->ops[0].getattr.fh.len, w.fh.len);
    Fattr attrs = AttrBuilder().u64(FATTR4_CHANGE, change).u64(FATTR4_SIZE, size).build();
    a->rpc().send_reply(cb->xid, callback_reply(*cb, NFS4_OK, NFS4_OK, &attrs).span());
  };

  // The holder has written 5000 bytes it has not sent yet: b sees its size and a new change.
  auto modified = b_getattr(w.fh);
  answer_getattr(change0 + 7, 5000);
  Seen m = modified.get();
  ASSERT_EQ(m.status, NFS4_OK);
  EXPECT_EQ(m.size, 5000u);
  EXPECT_GT(m.change, change0);
  // The holder has changed nothing: b sees the server's own attributes.
  auto same = b_getattr(w.fh);
  answer_getattr(change0, size0);
  Seen u = same.get();
  ASSERT_EQ(u.status, NFS4_OK);
  EXPECT_EQ(u.size, size0);
  EXPECT_EQ(u.change, change0);
  // The holder still has its delegation: it writes under it.
  std::vector<uint8_t> data(10, 'h');
  WriteArgs wa;
  wa.stateid = w.ok.delegation.stateid;
  wa.stable = FILE_SYNC4;
  wa.data.bytes = data;
  answer_callbacks(*a);
  EXPECT_EQ(a->call(a->builder().op(OP_PUTFH, PutFhArgs{w.fh}).op(OP_WRITE, wa)).status, NFS4_OK);
  // Where GETATTR is not last, nothing may wait: the delegation is recalled and b retries.
  a->rpc().set_call_handler(nullptr);
  auto r = b->call(b->builder()
                       .op(OP_PUTFH, PutFhArgs{w.fh})
                       .op(OP_GETATTR, GetattrArgs{Bitmap{FATTR4_SIZE}})
                       .op(OP_GETFH));
  EXPECT_EQ(r.status, NFS4ERR_DELAY);
  auto recall = next_cb_compound(*a);
  ASSERT_TRUE(recall);
  EXPECT_EQ(recall->ops.at(0).op, OP_CB_RECALL);
  a->rpc().send_reply(recall->xid, callback_reply(*recall).span());
  // A holder that does not answer: after the callback timeout, the server's attributes.
  const uint64_t silent_size = a->getattr_u64(w2.fh, FATTR4_SIZE);
  a->rpc().set_call_handler(nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  Seen s = b_getattr(w2.fh).get();
  EXPECT_EQ(s.status, NFS4_OK);
  EXPECT_EQ(s.size, silent_size);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
}

// WANT_DELEGATION (§18.49): a delegation without an open, answered like OPEN's, with the
// RFC's errors for a want that says nothing and for reclaims, and reasons when none is given.
TEST_F(DelegationTest, WantDelegationGivesADelegationWithoutAnOpen) {
  auto a = deleg_client();
  const Fh exp = a->lookup_path("/export");
  for (const std::string name : {"wd-read", "wd-write"}) {
    auto o = open_new(*a, name, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_ACCESS_WANT_NO_DELEG);
    ASSERT_EQ(o.status, NFS4_OK);
    ASSERT_EQ(do_close(*a, o.fh, o.ok.stateid).status, NFS4_OK);
  }
  const Fh rfh = a->lookup_path("/export/wd-read");
  const Fh wfh = a->lookup_path("/export/wd-write");
  auto want = [](NfsClient& c, const Fh& fh, uint32_t bits, uint32_t claim = CLAIM_FH) {
    WantDelegationArgs w;
    w.want = bits;
    w.claim = claim;
    auto r = c.call(c.builder().op(OP_PUTFH, PutFhArgs{fh}).op(OP_WANT_DELEGATION, w));
    WantDelegationResult out;
    out.status = r.status;
    if (r.status == NFS4_OK) {
      r.next_status(OP_PUTFH);
      out = r.next<WantDelegationResult>(OP_WANT_DELEGATION);
    }
    return out;
  };
  EXPECT_EQ(want(*a, rfh, 0).status, NFS4ERR_INVAL);
  EXPECT_EQ(want(*a, rfh, OPEN4_SHARE_ACCESS_WANT_NO_DELEG).status, NFS4ERR_INVAL);
  EXPECT_EQ(want(*a, rfh, OPEN4_SHARE_ACCESS_WANT_READ_DELEG, CLAIM_PREVIOUS).status,
            NFS4ERR_NO_GRACE);
  auto cancel = want(*a, rfh, OPEN4_SHARE_ACCESS_WANT_CANCEL);
  ASSERT_EQ(cancel.status, NFS4_OK);
  EXPECT_EQ(cancel.ok.type, OPEN_DELEGATE_NONE_EXT);
  EXPECT_EQ(cancel.ok.why, WND4_CANCELLED);
  auto dir = want(*a, exp, OPEN4_SHARE_ACCESS_WANT_READ_DELEG);
  ASSERT_EQ(dir.status, NFS4_OK);
  EXPECT_EQ(dir.ok.type, OPEN_DELEGATE_NONE_EXT);
  EXPECT_EQ(dir.ok.why, WND4_IS_DIR);

  // Granted without an open, and recalled like any other.
  auto rd = want(*a, rfh, OPEN4_SHARE_ACCESS_WANT_READ_DELEG | OPEN4_SHARE_ACCESS_READ);
  ASSERT_EQ(rd.status, NFS4_OK);
  ASSERT_EQ(rd.ok.type, OPEN_DELEGATE_READ);
  auto wr = want(*a, wfh, OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG);
  ASSERT_EQ(wr.status, NFS4_OK);
  ASSERT_EQ(wr.ok.type, OPEN_DELEGATE_WRITE);
  EXPECT_EQ(daemon().nfs().state.delegations(a->clientid).size(), 2u);
  // One delegation per client and file: asking again gets the reason.
  auto again = want(*a, rfh, OPEN4_SHARE_ACCESS_WANT_ANY_DELEG);
  ASSERT_EQ(again.status, NFS4_OK);
  EXPECT_EQ(again.ok.type, OPEN_DELEGATE_NONE_EXT);
  EXPECT_EQ(again.ok.why, WND4_CONTENTION);
  a->rpc().set_call_handler(nullptr);
  auto b = client(0, 0);
  EXPECT_EQ(open_existing(*b, "wd-read", OPEN4_SHARE_ACCESS_BOTH).status, NFS4ERR_DELAY);
  auto cb = next_cb_compound(*a);
  ASSERT_TRUE(cb);
  EXPECT_EQ(cb->ops.at(0).op, OP_CB_RECALL);
  EXPECT_EQ(cb->ops.at(0).recall.stateid.other, rd.ok.stateid.other);
  a->rpc().send_reply(cb->xid, callback_reply(*cb).span());
  answer_callbacks(*a);
  EXPECT_EQ(delegreturn(*a, rfh, rd.ok.stateid), NFS4_OK);
  EXPECT_EQ(open_existing(*b, "wd-read", OPEN4_SHARE_ACCESS_BOTH).status, NFS4_OK);
  EXPECT_EQ(delegreturn(*a, wfh, wr.ok.stateid), NFS4_OK);
  // Without a back channel nobody can be called back: no delegation, for lack of resources.
  auto plain = std::make_unique<NfsClient>("127.0.0.1", port());
  plain->establish();
  auto p = want(*plain, wfh, OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG);
  ASSERT_EQ(p.status, NFS4_OK);
  EXPECT_EQ(p.ok.type, OPEN_DELEGATE_NONE_EXT);
  EXPECT_EQ(p.ok.why, WND4_RESOURCE);
}

// What an operator sees: the delegations a client holds (REST), the session's callback side
// (REST), and the gauges and histogram in the metrics, before and after a recall and return.
TEST_F(DelegationTest, RestAndMetricsShowTheBackchannelAndTheDelegationsHeld) {
  auto a = deleg_client();
  auto o = open_new(*a, "seen", OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_ACCESS_WANT_READ_DELEG);
  ASSERT_EQ(o.status, NFS4_OK);
  ASSERT_EQ(o.ok.delegation.type, OPEN_DELEGATE_READ);
  httplib::Client h("127.0.0.1", daemon().api_port());
  auto login = h.Post(
      "/api/v1/auth/login",
      nlohmann::json{{"username", "admin"}, {"password", daemon().generated_admin_password()}}
          .dump(),
      "application/json");
  ASSERT_TRUE(login && login->status == 200);
  const httplib::Headers auth{
      {"Authorization",
       "Bearer " + nlohmann::json::parse(login->body)["access_token"].get<std::string>()}};
  char id[17];
  std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(a->clientid));
  auto get = [&](const std::string& path) {
    auto r = h.Get(path.c_str(), auth);
    EXPECT_TRUE(r && r->status == 200) << path;
    return r ? nlohmann::json::parse(r->body) : nlohmann::json();
  };
  const std::string holder = std::string("/api/v1/clients/") + id;
  char other[25];
  for (size_t i = 0; i < 12; ++i)
    std::snprintf(other + 2 * i, 3, "%02x", o.ok.delegation.stateid.other[i]);

  auto held = get(holder + "/delegations");
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0]["stateid"], other);
  EXPECT_EQ(held[0]["type"], "read");
  EXPECT_EQ(held[0]["recalled"], false);
  EXPECT_EQ(held[0]["revoked"], false);
  EXPECT_EQ(metric("dittofs_nfs_delegations_active{type=\"read\"}"), 1);

  // Another client's write open recalls it; a answers the recall, and REST says so.
  a->rpc().set_call_handler(nullptr);
  auto b = client(0, 0);
  EXPECT_EQ(open_existing(*b, "seen", OPEN4_SHARE_ACCESS_BOTH).status, NFS4ERR_DELAY);
  auto cb = next_cb_compound(*a);
  ASSERT_TRUE(cb);
  a->rpc().send_reply(cb->xid, callback_reply(*cb).span());
  answer_callbacks(*a);
  held = get(holder + "/delegations");
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0]["recalled"], true);
  ASSERT_TRUE(eventually(
      [&] {
        auto sessions = get(holder + "/sessions");
        return sessions.size() == 1 && sessions[0]["backchannel"]["callbacks_sent"] >= 1;
      },
      10s, 20ms));
  const auto bc = get(holder + "/sessions")[0]["backchannel"];
  EXPECT_EQ(bc["program"], 0x40000000u);
  EXPECT_EQ(bc["path_up"], true);
  EXPECT_EQ(bc["fault"], false);
  EXPECT_EQ(bc["last_result"], "NFS4_OK");
  EXPECT_GE(metric("dittofs_nfs_backchannel_callback_duration_seconds_count"), 1);

  EXPECT_EQ(delegreturn(*a, o.fh, o.ok.delegation.stateid), NFS4_OK);
  EXPECT_EQ(get(holder + "/delegations").size(), 0u);
  EXPECT_EQ(metric("dittofs_nfs_delegations_active{type=\"read\"}"), 0);
}

TEST_F(DelegationTest, OtherClientsIoAttributeAndNameChangesRecall) {
  auto a = deleg_client();
  auto b = client(0, 0);
  Fh exp = a->lookup_path("/export");
  struct Case {
    std::string name;
    std::function<nfsstat4(const Fh&, const Stateid&)> act;
  };
  // Each conflicting change, by b, of a file a holds a read delegation on.
  const std::vector<Case> cases = {
      {"io",
       [&](const Fh& fh, const Stateid&) {
         auto o = open_existing(*b, "io", OPEN4_SHARE_ACCESS_READ, "b-io");
         if (o.status != NFS4_OK) return o.status;  // (a read open does not conflict)
         std::vector<uint8_t> d(10, 'x');
         WriteArgs wa;
         wa.stateid = Stateid{0, {}};  // anonymous: the write itself conflicts
         wa.stable = UNSTABLE4;
         wa.data.bytes = d;
         return b->call(b->builder().op(OP_PUTFH, PutFhArgs{fh}).op(OP_WRITE, wa)).status;
       }},
      {"setattr",
       [&](const Fh& fh, const Stateid&) {
         SetattrArgs sa;
         sa.attrs = AttrBuilder().u32(FATTR4_MODE, 0600).build();
         return b->call(b->builder().op(OP_PUTFH, PutFhArgs{fh}).op(OP_SETATTR, sa)).status;
       }},
      {"remove",
       [&](const Fh&, const Stateid&) {
         return b
             ->call(
                 b->builder().op(OP_PUTFH, PutFhArgs{exp}).op(OP_REMOVE, ComponentArgs{"remove"}))
             .status;
       }},
      {"rename",
       [&](const Fh&, const Stateid&) {
         RenameArgs ra{"rename", "renamed"};
         return b
             ->call(b->builder()
                        .op(OP_PUTFH, PutFhArgs{exp})
                        .op(OP_SAVEFH)
                        .op(OP_PUTFH, PutFhArgs{exp})
                        .op(OP_RENAME, ra))
             .status;
       }},
      {"link",
       [&](const Fh& fh, const Stateid&) {
         return b
             ->call(b->builder()
                        .op(OP_PUTFH, PutFhArgs{fh})
                        .op(OP_SAVEFH)
                        .op(OP_PUTFH, PutFhArgs{exp})
                        .op(OP_LINK, ComponentArgs{"linked"}))
             .status;
       }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto o = open_new(*a, c.name, OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_ACCESS_WANT_READ_DELEG);
    ASSERT_EQ(o.status, NFS4_OK);
    ASSERT_EQ(o.ok.delegation.type, OPEN_DELEGATE_READ);
    a->rpc().set_call_handler(nullptr);
    EXPECT_EQ(c.act(o.fh, o.ok.delegation.stateid), NFS4ERR_DELAY);
    auto cb = next_cb_compound(*a);
    ASSERT_TRUE(cb);
    EXPECT_EQ(cb->ops.at(0).recall.stateid.other, o.ok.delegation.stateid.other);
    a->rpc().send_reply(cb->xid, callback_reply(*cb).span());
    answer_callbacks(*a);
    EXPECT_EQ(delegreturn(*a, o.fh, o.ok.delegation.stateid), NFS4_OK);
    EXPECT_EQ(c.act(o.fh, o.ok.delegation.stateid), NFS4_OK);
  }
}

TEST_F(DelegationTest, AClientThatNeverAnswersIsRevokedAfterALease) {
  server::Config cfg;
  cfg.nfs.lease_time = 10;  // the shortest allowed: revocation comes a lease after the recall
  cfg.nfs.callback_timeout = 1;
  start(cfg);
  auto a = deleg_client();
  auto o = open_new(*a, "silent", OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_ACCESS_WANT_READ_DELEG);
  ASSERT_EQ(o.ok.delegation.type, OPEN_DELEGATE_READ);
  a->rpc().set_call_handler(nullptr);  // from now on a ignores every callback

  auto b = client(0, 0);
  const auto recalled_at = std::chrono::steady_clock::now();
  EXPECT_EQ(open_existing(*b, "silent", OPEN4_SHARE_ACCESS_BOTH).status, NFS4ERR_DELAY);
  // The recall is retried, then given up: a's session learns its path is down.
  ASSERT_TRUE(eventually([&] { return (seq_flags(*a) & SEQ4_STATUS_CB_PATH_DOWN_SESSION) != 0; },
                         20s, 200ms));
  EXPECT_GE(metric("dittofs_nfs_backchannel_callback_retries_total"), 1);
  EXPECT_GE(metric("dittofs_nfs_backchannel_callback_failures_total{reason=\"timeout\"}"), 1);
  // After a lease the delegation is revoked and b goes ahead; never much later.
  nfsstat4 st = NFS4ERR_DELAY;
  ASSERT_TRUE(eventually(
      [&] {
        seq_flags(*a);  // a keeps its lease: only the delegation is at stake
        st = open_existing(*b, "silent", OPEN4_SHARE_ACCESS_BOTH).status;
        return st != NFS4ERR_DELAY;
      },
      25s, 250ms));
  EXPECT_EQ(st, NFS4_OK);
  const auto waited = std::chrono::steady_clock::now() - recalled_at;
  EXPECT_GE(waited, 10s);
  EXPECT_LT(waited, 20s);
  EXPECT_GE(metric("dittofs_nfs_delegations_revoked_total"), 1);
  // a is told, and learns which stateid (TEST_STATEID), and frees it.
  EXPECT_TRUE(seq_flags(*a) & SEQ4_STATUS_RECALLABLE_STATE_REVOKED);
  TestStateidArgs ta;
  ta.stateids.push_back(o.ok.delegation.stateid);
  auto tr = a->call(a->builder().op(OP_TEST_STATEID, ta)).next<TestStateidResult>(OP_TEST_STATEID);
  ASSERT_EQ(tr.ok.status_codes.size(), 1u);
  EXPECT_EQ(tr.ok.status_codes[0], NFS4ERR_DELEG_REVOKED);
  EXPECT_EQ(do_read(*a, o.fh, o.ok.delegation.stateid, 0, 4).status, NFS4ERR_DELEG_REVOKED);
  EXPECT_EQ(a->call(a->builder().op(OP_FREE_STATEID, StateidArgs{o.ok.delegation.stateid})).status,
            NFS4_OK);
  EXPECT_FALSE(seq_flags(*a) & SEQ4_STATUS_RECALLABLE_STATE_REVOKED);
}

TEST_F(DelegationTest, LosingTheBackConnectionIsReportedAndANewBindRepairsIt) {
  // The fore channel on one connection, the back channel on another.
  auto a = std::make_unique<NfsClient>("127.0.0.1", port());
  a->establish();
  auto back = std::make_unique<NfsClient>("127.0.0.1", port());
  answer_callbacks(*back);
  BindConnArgs bc;
  bc.sessionid = a->sessionid;
  bc.dir = CDFC4_BACK;
  ASSERT_EQ(back->compound(back->builder().op(OP_BIND_CONN_TO_SESSION, bc))
                .next<BindConnResult>(OP_BIND_CONN_TO_SESSION)
                .status,
            NFS4_OK);
  // The probe went to the back connection; answer it by reading there.
  ASSERT_TRUE(eventually(
      [&] {
        back->null_call();
        return daemon().nfs().callbacks.status(a->sessionid).path_up;
      },
      10s, 20ms));
  EXPECT_FALSE(seq_flags(*a) & SEQ4_STATUS_CB_PATH_DOWN_SESSION);
  back.reset();  // the client closes its back connection
  ASSERT_TRUE(
      eventually([&] { return (seq_flags(*a) & SEQ4_STATUS_CB_PATH_DOWN_SESSION) != 0; }, 10s));
  // A new back connection brings it back.
  auto again = std::make_unique<NfsClient>("127.0.0.1", port());
  answer_callbacks(*again);
  ASSERT_EQ(again->compound(again->builder().op(OP_BIND_CONN_TO_SESSION, bc))
                .next<BindConnResult>(OP_BIND_CONN_TO_SESSION)
                .status,
            NFS4_OK);
  ASSERT_TRUE(eventually(
      [&] {
        again->null_call();
        return (seq_flags(*a) & SEQ4_STATUS_CB_PATH_DOWN_SESSION) == 0;
      },
      10s, 20ms));
}

TEST_F(DelegationTest, ARecallFollowsTheClientToItsNewSession) {
  server::Config cfg;
  cfg.nfs.callback_timeout = 1;
  start(cfg);
  auto a = deleg_client();
  auto o = open_new(*a, "moved", OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_ACCESS_WANT_READ_DELEG);
  ASSERT_EQ(o.ok.delegation.type, OPEN_DELEGATE_READ);
  a->rpc().set_call_handler(nullptr);
  auto b = client(0, 0);
  EXPECT_EQ(open_existing(*b, "moved", OPEN4_SHARE_ACCESS_BOTH).status, NFS4ERR_DELAY);
  auto first = next_cb_compound(*a);  // seen, not answered
  ASSERT_TRUE(first);
  EXPECT_EQ(first->sequence.sessionid, a->sessionid);
  // The client destroys that session and makes another on the same connection.
  ASSERT_EQ(a->compound(a->builder().op(OP_DESTROY_SESSION, SessionIdArgs{a->sessionid}))
                .next_status(OP_DESTROY_SESSION),
            NFS4_OK);
  auto cs = create_session(
      *a, session_args(a->clientid, a->create_seq++, 8, CREATE_SESSION4_FLAG_CONN_BACK_CHAN));
  ASSERT_EQ(cs.status, NFS4_OK);
  adopt_session(*a, a->clientid, cs.ok);
  // The unanswered recall comes again over the new session.
  CbCall again;
  for (;;) {
    auto cb = next_callback(*a);
    ASSERT_TRUE(cb);
    if (cb->procedure == kCbProcNull) {
      a->rpc().send_reply(cb->xid, {});
      continue;
    }
    if (cb->sequence.sessionid == cs.ok.sessionid) {
      again = *cb;
      break;
    }
  }
  EXPECT_EQ(again.ops.at(0).recall.stateid.other, o.ok.delegation.stateid.other);
  a->rpc().send_reply(again.xid, callback_reply(again).span());
}

TEST_F(DelegationTest, ARecallThatFailsIsSentAgainUntilReturned) {
  server::Config cfg;
  cfg.nfs.callback_timeout = 1;
  start(cfg);
  auto a = deleg_client();
  auto o = open_new(*a, "again", OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_ACCESS_WANT_READ_DELEG);
  ASSERT_EQ(o.ok.delegation.type, OPEN_DELEGATE_READ);
  a->rpc().set_call_handler(nullptr);
  auto b = client(0, 0);
  EXPECT_EQ(open_existing(*b, "again", OPEN4_SHARE_ACCESS_BOTH).status, NFS4ERR_DELAY);
  // The client answers with an RPC error each time: that callback has failed, and the
  // server sends the recall again a callback_timeout later, until one gets through.
  int seen = 0;
  CbCall last;
  while (seen < kMaxAttemptsSeen) {
    auto cb = next_cb_compound(*a);
    ASSERT_TRUE(cb);
    last = *cb;
    if (++seen < kMaxAttemptsSeen) a->rpc().send_reply(cb->xid, {}, rpc::AcceptStat::kSystemErr);
  }
  EXPECT_EQ(last.ops.at(0).recall.stateid.other, o.ok.delegation.stateid.other);
  a->rpc().send_reply(last.xid, callback_reply(last).span());
  answer_callbacks(*a);
  EXPECT_EQ(delegreturn(*a, o.fh, o.ok.delegation.stateid), NFS4_OK);
  EXPECT_EQ(open_existing(*b, "again", OPEN4_SHARE_ACCESS_BOTH).status, NFS4_OK);
}

TEST_F(DelegationTest, SeveralCallbacksInFlightAnsweredOutOfOrder) {
  auto a = deleg_client(/*back_slots=*/4);
  std::vector<OpenOutcome> files;
  for (int i = 0; i < 3; ++i) {
    files.push_back(open_new(*a, "ooo" + std::to_string(i), OPEN4_SHARE_ACCESS_READ,
                             OPEN4_SHARE_ACCESS_WANT_READ_DELEG));
    ASSERT_EQ(files.back().ok.delegation.type, OPEN_DELEGATE_READ);
  }
  a->rpc().set_call_handler(nullptr);
  auto b = client(0, 0);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(open_existing(*b, "ooo" + std::to_string(i), OPEN4_SHARE_ACCESS_BOTH).status,
              NFS4ERR_DELAY);
  }
  std::vector<CbCall> calls;
  for (int i = 0; i < 3; ++i) {
    auto cb = next_cb_compound(*a);
    ASSERT_TRUE(cb);
    calls.push_back(*cb);
  }
  // Three slots in use at once.
  std::set<uint32_t> slots;
  for (const auto& c : calls)
    slots.insert(c.sequence.slotid);
  EXPECT_EQ(slots.size(), 3u);
  EXPECT_EQ(daemon().nfs().callbacks.status(a->sessionid).in_flight, 3u);
  for (auto it = calls.rbegin(); it != calls.rend(); ++it)
    a->rpc().send_reply(it->xid, callback_reply(*it).span());
  ASSERT_TRUE(eventually(
      [&] { return daemon().nfs().callbacks.status(a->sessionid).in_flight == 0; }, 10s));
  EXPECT_EQ(daemon().nfs().callbacks.status(a->sessionid).last_result, "NFS4_OK");
  // The slots' sequence ids moved on: the next callback on slot 0 carries 2.
  answer_callbacks(*a);
  for (auto& f : files)
    EXPECT_EQ(delegreturn(*a, f.fh, f.ok.delegation.stateid), NFS4_OK);
}

TEST_F(DelegationTest, CbSequenceErrorsAreHandledAsTheRfcSays) {
  auto a = deleg_client(/*back_slots=*/2);
  auto o1 = open_new(*a, "e1", OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_ACCESS_WANT_READ_DELEG);
  auto o2 = open_new(*a, "e2", OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_ACCESS_WANT_READ_DELEG);
  ASSERT_EQ(o2.ok.delegation.type, OPEN_DELEGATE_READ);
  a->rpc().set_call_handler(nullptr);
  auto b = client(0, 0);
  // DELAY: the same callback comes again, same slot and sequence id.
  EXPECT_EQ(open_existing(*b, "e1", OPEN4_SHARE_ACCESS_BOTH).status, NFS4ERR_DELAY);
  auto first = next_cb_compound(*a);
  ASSERT_TRUE(first);
  a->rpc().send_reply(first->xid, callback_reply(*first, NFS4ERR_DELAY).span());
  auto second = next_cb_compound(*a);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->sequence.slotid, first->sequence.slotid);
  EXPECT_EQ(second->sequence.sequenceid, first->sequence.sequenceid);
  EXPECT_EQ(second->ops.at(0).recall.stateid.other, first->ops.at(0).recall.stateid.other);
  a->rpc().send_reply(second->xid, callback_reply(*second).span());
  // BADSLOT on slot 1 (if used): the server goes down to fewer slots and sends it again.
  // SEQ_MISORDERED: a backchannel fault, reported to the client.
  EXPECT_EQ(open_existing(*b, "e2", OPEN4_SHARE_ACCESS_BOTH).status, NFS4ERR_DELAY);
  auto third = next_cb_compound(*a);
  ASSERT_TRUE(third);
  a->rpc().send_reply(third->xid, callback_reply(*third, NFS4ERR_SEQ_MISORDERED).span());
  answer_callbacks(*a);
  ASSERT_TRUE(
      eventually([&] { return (seq_flags(*a) & SEQ4_STATUS_BACKCHANNEL_FAULT) != 0; }, 10s));
  EXPECT_TRUE(daemon().nfs().callbacks.status(a->sessionid).fault);
}

TEST_F(DelegationTest, BadSlotShrinksTheCallbackSlotTable) {
  auto a = deleg_client(/*back_slots=*/2);
  std::vector<OpenOutcome> files;
  for (int i = 0; i < 2; ++i) {
    files.push_back(open_new(*a, "bs" + std::to_string(i), OPEN4_SHARE_ACCESS_READ,
                             OPEN4_SHARE_ACCESS_WANT_READ_DELEG));
  }
  a->rpc().set_call_handler(nullptr);
  auto b = client(0, 0);
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(open_existing(*b, "bs" + std::to_string(i), OPEN4_SHARE_ACCESS_BOTH).status,
              NFS4ERR_DELAY);
  auto x = next_cb_compound(*a);
  auto y = next_cb_compound(*a);
  ASSERT_TRUE(x && y);
  const CbCall& on1 = x->sequence.slotid == 1 ? *x : *y;
  const CbCall& on0 = x->sequence.slotid == 1 ? *y : *x;
  ASSERT_EQ(on1.sequence.slotid, 1u);
  a->rpc().send_reply(on1.xid, callback_reply(on1, NFS4ERR_BADSLOT).span());
  a->rpc().send_reply(on0.xid, callback_reply(on0).span());
  // The refused one comes again on slot 0, whose sequence moved on by one.
  auto again = next_cb_compound(*a);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->sequence.slotid, 0u);
  EXPECT_EQ(again->sequence.sequenceid, on0.sequence.sequenceid + 1);
  EXPECT_EQ(again->ops.at(0).recall.stateid.other, on1.ops.at(0).recall.stateid.other);
  a->rpc().send_reply(again->xid, callback_reply(*again).span());
  EXPECT_EQ(daemon().nfs().callbacks.status(a->sessionid).slots, 1u);
}

TEST_F(DelegationTest, AFullCallbackQueueFailsAtOnceAndIsReported) {
  auto a = deleg_client(/*back_slots=*/1);
  constexpr int kFiles = 70;  // one in flight, 64 queued, the rest refused
  std::vector<std::string> names;
  for (int i = 0; i < kFiles; ++i) {
    names.push_back("q" + std::to_string(i));
    auto o =
        open_new(*a, names.back(), OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_ACCESS_WANT_READ_DELEG);
    ASSERT_EQ(o.ok.delegation.type, OPEN_DELEGATE_READ) << i;
  }
  a->rpc().set_call_handler(nullptr);
  auto b = client(0, 0);
  for (const auto& n : names)
    EXPECT_EQ(open_existing(*b, n, OPEN4_SHARE_ACCESS_BOTH).status, NFS4ERR_DELAY);
  EXPECT_GE(metric("dittofs_nfs_backchannel_callback_failures_total{reason=\"queue_full\"}"),
            kFiles - 1 - 64);
  auto st = daemon().nfs().callbacks.status(a->sessionid);
  EXPECT_EQ(st.queued, 64u);
  EXPECT_EQ(st.in_flight, 1u);
  EXPECT_TRUE(seq_flags(*a) & SEQ4_STATUS_CB_PATH_DOWN_SESSION);
}

TEST_F(DelegationTest, BackchannelCtl) {
  auto a = deleg_client();
  auto ctl = [&](BackchannelCtlArgs args) {
    return a->call(a->builder().op(OP_BACKCHANNEL_CTL, args)).status;
  };
  BackchannelCtlArgs ok;
  ok.cb_program = 0x40000123;
  CallbackSecParms sys;
  sys.flavor = 1;
  sys.sys.machinename = "client-host";
  sys.sys.uid = 7;
  sys.sys.gid = 8;
  ok.sec_parms.push_back(sys);
  a->rpc().set_call_handler(nullptr);
  EXPECT_EQ(ctl(ok), NFS4_OK);
  // The update is used: the probe that follows goes to the new program with AUTH_SYS.
  auto probe = next_callback(*a);
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->procedure, kCbProcNull);
  EXPECT_EQ(probe->program, 0x40000123u);
  EXPECT_EQ(probe->flavor, rpc::AuthFlavor::kSys);
  a->rpc().send_reply(probe->xid, {});
  // RPCSEC_GSS: no such handle here (§18.33.3).
  BackchannelCtlArgs gss = ok;
  gss.sec_parms[0].flavor = 6;
  EXPECT_EQ(ctl(gss), NFS4ERR_NOENT);
  // Bad XDR: an unknown flavour.
  CompoundBuilder raw(1);
  raw.op(OP_SEQUENCE, a->next_sequence(0));
  xdr::ByteBuffer bad;
  {
    xdr::Encoder e(bad);
    e.u32(OP_BACKCHANNEL_CTL);
    e.u32(0x40000000);
    e.u32(1);
    e.u32(77);  // callback_sec_parms4 flavour that does not exist
  }
  raw.raw(bad.span());
  auto r = a->compound(raw);
  r.next<SequenceResult>(OP_SEQUENCE);
  EXPECT_EQ(r.next_status(OP_BACKCHANNEL_CTL), NFS4ERR_BADXDR);
  // Alone, without SEQUENCE: not in a session.
  auto alone = a->compound(a->builder().op(OP_BACKCHANNEL_CTL, ok));
  EXPECT_EQ(alone.status, NFS4ERR_OP_NOT_IN_SESSION);
  // A session with no back channel has none to control.
  auto plain = client(0, 0);
  EXPECT_EQ(plain->call(plain->builder().op(OP_BACKCHANNEL_CTL, ok)).status, NFS4ERR_INVAL);
}

TEST_F(DelegationTest, BlockedLockWaiterIsToldWhenTheLockIsReleased) {
  auto holder = client(0, 0);
  auto waiter = deleg_client();
  Fh exp = holder->lookup_path("/export");
  auto ho = do_open(
      *holder, exp,
      open_args(*holder, "locked", OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
                OPEN4_SHARE_DENY_NONE, true));
  ASSERT_EQ(ho.status, NFS4_OK);
  auto held = do_lock(*holder, ho.fh, new_lock_args(*holder, WRITE_LT, 0, 100, ho.ok.stateid, "h"));
  ASSERT_EQ(held.status, NFS4_OK);
  auto wo = do_open(
      *waiter, exp,
      open_args(*waiter, "locked", OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_NO_DELEG));
  ASSERT_EQ(wo.status, NFS4_OK);
  auto denied =
      do_lock(*waiter, wo.fh, new_lock_args(*waiter, WRITEW_LT, 0, 10, wo.ok.stateid, "w-owner"));
  ASSERT_EQ(denied.status, NFS4ERR_DENIED);
  waiter->rpc().set_call_handler(nullptr);
  ASSERT_EQ(do_locku(*holder, ho.fh, WRITE_LT, 0, 100, held.stateid).status, NFS4_OK);
  auto cb = next_cb_compound(*waiter);
  ASSERT_TRUE(cb);
  ASSERT_EQ(cb->ops.at(0).op, OP_CB_NOTIFY_LOCK);
  EXPECT_EQ(cb->ops[0].notify_lock.fh, wo.fh);
  EXPECT_EQ(cb->ops[0].notify_lock.lock_owner.clientid, waiter->clientid);
  EXPECT_EQ(cb->ops[0].notify_lock.lock_owner.owner, to_bytes("w-owner"));
  waiter->rpc().send_reply(cb->xid, callback_reply(*cb).span());
  answer_callbacks(*waiter);
  EXPECT_EQ(
      do_lock(*waiter, wo.fh, new_lock_args(*waiter, WRITEW_LT, 0, 10, wo.ok.stateid, "w-owner"))
          .status,
      NFS4_OK);
}

TEST_F(DelegationTest, OpenUnderTheDelegationWithDelegCurClaims) {
  auto a = deleg_client();
  auto o = open_new(*a, "cur", OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_ACCESS_WANT_READ_DELEG);
  ASSERT_EQ(o.ok.delegation.type, OPEN_DELEGATE_READ);
  OpenArgs fh_claim = open_args(*a, "", OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, false,
                                UNCHECKED4, "another-owner");
  fh_claim.claim.type = CLAIM_DELEG_CUR_FH;
  fh_claim.claim.delegate_stateid = o.ok.delegation.stateid;
  auto r = a->call(a->builder().op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_OPEN, fh_claim));
  r.next_status(OP_PUTFH);
  auto res = r.next<OpenResult>(OP_OPEN);
  EXPECT_EQ(res.status, NFS4_OK);
  EXPECT_EQ(res.ok.delegation.type, OPEN_DELEGATE_NONE);
  OpenArgs name_claim = open_args(*a, "", OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE, false,
                                  UNCHECKED4, "third-owner");
  name_claim.claim.type = CLAIM_DELEGATE_CUR;
  name_claim.claim.file = "cur";
  name_claim.claim.delegate_stateid = o.ok.delegation.stateid;
  EXPECT_EQ(do_open(*a, a->lookup_path("/export"), name_claim).status, NFS4_OK);
  // Another client's delegation stateid (or none at all) is refused.
  auto b = client(0, 0);
  OpenArgs stolen = name_claim;
  stolen.owner.clientid = b->clientid;
  EXPECT_EQ(do_open(*b, b->lookup_path("/export"), stolen).status, NFS4ERR_BAD_STATEID);
}

TEST_F(DelegationTest, UnmatchedRepliesAreDroppedAndCounted) {
  auto a = client(0, 0);
  const double before = metric("dittofs_nfs_backchannel_unmatched_replies_total");
  xdr::ByteBuffer rec;
  {
    xdr::Encoder e(rec);
    e.reserve_u32();
    rpc::encode_accepted_reply(e, 0x12345678, rpc::AcceptStat::kSuccess);
  }
  rpc::write_record_mark(rec.data(), static_cast<uint32_t>(rec.size() - 4));
  ASSERT_TRUE(a->rpc().send_raw(rec.span()));
  EXPECT_EQ(a->call(a->builder().op(OP_PUTROOTFH)).status, NFS4_OK);
  EXPECT_EQ(metric("dittofs_nfs_backchannel_unmatched_replies_total"), before + 1);
}

}  // namespace
}  // namespace dfs::testing
