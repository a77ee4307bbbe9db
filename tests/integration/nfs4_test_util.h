#pragma once
// Helpers shared by the NFSv4.1 integration tests: attribute encoding and decoding, sessions
// built by hand, OPEN/LOCK argument builders and a bounded wait. Each helper sends exactly
// the COMPOUND it says, so tests stay readable as wire scenarios.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "nfs4/attributes.h"
#include "server_fixture.h"

namespace dfs::testing {

inline std::vector<uint8_t> to_bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

inline Verifier verifier_of(uint64_t v) {
  Verifier out{};
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
  return out;
}

inline std::string unique_name(const std::string& prefix) {
  static std::atomic<uint32_t> n{0};
  return prefix + std::to_string(n++);
}

// ---- fattr4 -------------------------------------------------------------------------------

// Builds a fattr4: values are kept per attribute and emitted in attribute-number order.
class AttrBuilder {
 public:
  AttrBuilder& u32(uint32_t attr, uint32_t v) {
    return put(attr, [v](xdr::Encoder& e) { e.u32(v); });
  }
  AttrBuilder& u64(uint32_t attr, uint64_t v) {
    return put(attr, [v](xdr::Encoder& e) { e.u64(v); });
  }
  AttrBuilder& str(uint32_t attr, const std::string& s) {
    return put(attr, [s](xdr::Encoder& e) { e.string(s); });
  }
  AttrBuilder& put(uint32_t attr, const std::function<void(xdr::Encoder&)>& f) {
    xdr::ByteBuffer b;
    xdr::Encoder e(b);
    f(e);
    vals_[attr].assign(b.data(), b.data() + b.size());
    return *this;
  }
  Fattr build() const {
    Fattr out;
    for (const auto& [attr, v] : vals_) {
      out.mask.set(attr);
      out.vals.append(v.data(), v.size());
    }
    return out;
  }

 private:
  std::map<uint32_t, std::vector<uint8_t>> vals_;
};

// A decoded fattr4: the raw XDR of each attribute, by number.
class Attrs {
 public:
  Attrs() = default;
  explicit Attrs(const Fattr& f) {
    xdr::Decoder d(f.vals.span());
    ok_ = true;
    f.mask.for_each([&](uint32_t bit) {
      if (!ok_) return;
      const uint8_t* start = d.cursor();
      if (!skip(d, bit)) {
        ok_ = false;
        return;
      }
      raw_[bit].assign(start, d.cursor());
    });
    ok_ = ok_ && d.ok() && d.remaining() == 0;
  }
  bool ok() const { return ok_; }
  bool has(uint32_t bit) const { return raw_.count(bit) != 0; }
  uint32_t u32(uint32_t bit) const {
    auto d = at(bit);
    uint32_t v = 0;
    d.u32(v);
    return v;
  }
  uint64_t u64(uint32_t bit) const {
    auto d = at(bit);
    uint64_t v = 0;
    d.u64(v);
    return v;
  }
  std::string str(uint32_t bit) const {
    auto d = at(bit);
    std::string s;
    d.string(s);
    return s;
  }
  Fsid fsid() const {
    auto d = at(FATTR4_FSID);
    Fsid f;
    d.u64(f.major);
    d.u64(f.minor);
    return f;
  }
  SpecData rawdev() const {
    auto d = at(FATTR4_RAWDEV);
    SpecData s;
    d.u32(s.major);
    d.u32(s.minor);
    return s;
  }
  NfsTime time(uint32_t bit) const {
    auto d = at(bit);
    NfsTime t;
    d.i64(t.seconds);
    d.u32(t.nseconds);
    return t;
  }
  Bitmap bitmap(uint32_t bit) const {
    auto d = at(bit);
    Bitmap b;
    xdr::io(d, b);
    return b;
  }
  Fh fh() const {
    auto d = at(FATTR4_FILEHANDLE);
    Fh f;
    xdr::io(d, f);
    return f;
  }
  const std::vector<uint8_t>& raw(uint32_t bit) const { return raw_.at(bit); }

 private:
  xdr::Decoder at(uint32_t bit) const {
    auto it = raw_.find(bit);
    if (it == raw_.end()) throw CompoundError("attribute " + std::to_string(bit) + " absent");
    return xdr::Decoder({it->second.data(), it->second.size()});
  }
  static bool skip(xdr::Decoder& d, uint32_t bit) {
    uint32_t u = 0;
    uint64_t v = 0;
    switch (bit) {
      case FATTR4_SUPPORTED_ATTRS:
      case FATTR4_SUPPATTR_EXCLCREAT: {
        Bitmap b;
        xdr::io(d, b);
        return d.ok();
      }
      case FATTR4_OPEN_ARGUMENTS: {  // five bitmaps
        Bitmap b;
        for (int i = 0; i < 5; ++i)
          xdr::io(d, b);
        return d.ok();
      }
      case FATTR4_TYPE:
      case FATTR4_FH_EXPIRE_TYPE:
      case FATTR4_LINK_SUPPORT:
      case FATTR4_SYMLINK_SUPPORT:
      case FATTR4_NAMED_ATTR:
      case FATTR4_UNIQUE_HANDLES:
      case FATTR4_LEASE_TIME:
      case FATTR4_RDATTR_ERROR:
      case FATTR4_ACLSUPPORT:
      case FATTR4_CANSETTIME:
      case FATTR4_CASE_INSENSITIVE:
      case FATTR4_CASE_PRESERVING:
      case FATTR4_CHOWN_RESTRICTED:
      case FATTR4_HOMOGENEOUS:
      case FATTR4_MAXLINK:
      case FATTR4_MAXNAME:
      case FATTR4_MODE:
      case FATTR4_NO_TRUNC:
      case FATTR4_NUMLINKS:
        return d.u32(u);
      case FATTR4_CHANGE:
      case FATTR4_SIZE:
      case FATTR4_FILEID:
      case FATTR4_FILES_AVAIL:
      case FATTR4_FILES_FREE:
      case FATTR4_FILES_TOTAL:
      case FATTR4_MAXFILESIZE:
      case FATTR4_MAXREAD:
      case FATTR4_MAXWRITE:
      case FATTR4_SPACE_AVAIL:
      case FATTR4_SPACE_FREE:
      case FATTR4_SPACE_TOTAL:
      case FATTR4_SPACE_USED:
      case FATTR4_MOUNTED_ON_FILEID:
        return d.u64(v);
      case FATTR4_FSID:
        return d.u64(v) && d.u64(v);
      case FATTR4_RAWDEV:
        return d.u32(u) && d.u32(u);
      case FATTR4_OWNER:
      case FATTR4_OWNER_GROUP: {
        std::string s;
        return d.string(s);
      }
      case FATTR4_FILEHANDLE: {
        Fh f;
        xdr::io(d, f);
        return d.ok();
      }
      case FATTR4_TIME_ACCESS:
      case FATTR4_TIME_CREATE:
      case FATTR4_TIME_DELTA:
      case FATTR4_TIME_METADATA:
      case FATTR4_TIME_MODIFY:
        return d.u64(v) && d.u32(u);
      default:
        return false;  // not an attribute the server claims to support
    }
  }

  bool ok_ = false;
  std::map<uint32_t, std::vector<uint8_t>> raw_;
};

// GETATTR of `attrs` on `fh`; fails the test (throws) if the compound fails.
inline Attrs get_attrs(NfsClient& c, const Fh& fh, const Bitmap& attrs) {
  Fattr f;
  auto st = c.getattr(fh, attrs, f);
  if (st != NFS4_OK) throw CompoundError("GETATTR failed: " + std::to_string(st));
  Attrs a(f);
  if (!a.ok()) throw CompoundError("undecodable fattr4");
  return a;
}

// ---- sessions by hand ---------------------------------------------------------------------

inline ExchangeIdArgs exchange_args(const std::string& owner, const Verifier& v,
                                    uint32_t flags = 0) {
  ExchangeIdArgs ex;
  ex.clientowner.ownerid = to_bytes(owner);
  ex.clientowner.verifier = v;
  ex.flags = flags;
  return ex;
}

inline ExchangeIdResult exchange_id(NfsClient& c, const ExchangeIdArgs& ex) {
  auto r = c.compound(c.builder().op(OP_EXCHANGE_ID, ex));
  return r.next<ExchangeIdResult>(OP_EXCHANGE_ID);
}

inline CreateSessionArgs session_args(uint64_t clientid, uint32_t seq, uint32_t slots = 8,
                                      uint32_t flags = 0) {
  CreateSessionArgs cs;
  cs.clientid = clientid;
  cs.sequence = seq;
  cs.flags = flags;
  cs.fore = {0, 1u << 20, 1u << 20, 64u << 10, 32, slots, {}};
  cs.back = {0, 4096, 4096, 0, 4, 1, {}};
  cs.cb_program = 0x40000000;
  CallbackSecParms none;
  none.flavor = 0;
  cs.sec_parms.push_back(none);
  return cs;
}

inline CreateSessionResult create_session(NfsClient& c, const CreateSessionArgs& cs) {
  auto r = c.compound(c.builder().op(OP_CREATE_SESSION, cs));
  return r.next<CreateSessionResult>(OP_CREATE_SESSION);
}

// Makes `c` use the session `ok` (slot sequence ids start over).
inline void adopt_session(NfsClient& c, uint64_t clientid, const CreateSessionOk& ok) {
  c.clientid = clientid;
  c.sessionid = ok.sessionid;
  c.fore = ok.fore;
  c.slot_seq.assign(ok.fore.maxrequests, 0);
}

// A COMPOUND starting with SEQUENCE for `slot` (for tests that read SEQUENCE's result).
inline CompoundBuilder sequenced(NfsClient& c, uint32_t slot = 0, bool cachethis = false) {
  CompoundBuilder b(c.minor_);
  b.op(OP_SEQUENCE, c.next_sequence(slot, cachethis));
  return b;
}

inline SessionId random_session_id() {
  std::random_device rd;
  SessionId s{};
  for (auto& b : s)
    b = static_cast<uint8_t>(rd());
  return s;
}

// ---- OPEN, CLOSE, LOCK --------------------------------------------------------------------

inline OpenArgs open_args(NfsClient& c, const std::string& name, uint32_t access,
                          uint32_t deny = OPEN4_SHARE_DENY_NONE, bool create = false,
                          createmode4 mode = UNCHECKED4, const std::string& owner = "owner") {
  OpenArgs oa;
  oa.share_access = access;
  oa.share_deny = deny;
  oa.owner.clientid = c.clientid;
  oa.owner.owner = to_bytes(owner);
  oa.how.opentype = create ? OPEN4_CREATE : OPEN4_NOCREATE;
  oa.how.mode = mode;
  oa.claim.type = CLAIM_NULL;
  oa.claim.file = name;
  return oa;
}

struct OpenOutcome {
  nfsstat4 status = NFS4_OK;
  OpenOk ok;
  Fh fh;
  NfsClient::Opened opened() const { return {fh, ok.stateid}; }
};

// PUTFH dir; OPEN; GETFH.
inline OpenOutcome do_open(NfsClient& c, const Fh& dir, const OpenArgs& oa) {
  auto r = c.call(c.builder().op(OP_PUTFH, PutFhArgs{dir}).op(OP_OPEN, oa).op(OP_GETFH));
  OpenOutcome out;
  if (r.count == 0) {
    out.status = r.status;  // SEQUENCE failed
    return out;
  }
  if (auto st = r.next_status(OP_PUTFH); st != NFS4_OK) {
    out.status = st;
    return out;
  }
  auto o = r.next<OpenResult>(OP_OPEN);
  out.status = o.status;
  if (o.status != NFS4_OK) return out;
  out.ok = o.ok;
  out.fh = r.next<GetFhResult>(OP_GETFH).ok.object;
  return out;
}

inline LockArgs new_lock_args(const NfsClient& c, nfs_lock_type4 type, uint64_t offset,
                              uint64_t length, const Stateid& open_stateid,
                              const std::string& lock_owner) {
  LockArgs la;
  la.locktype = type;
  la.offset = offset;
  la.length = length;
  la.locker.new_lock_owner = true;
  la.locker.open_stateid = open_stateid;
  la.locker.lock_owner.clientid = c.clientid;
  la.locker.lock_owner.owner = to_bytes(lock_owner);
  return la;
}

inline LockArgs existing_lock_args(nfs_lock_type4 type, uint64_t offset, uint64_t length,
                                   const Stateid& lock_stateid) {
  LockArgs la;
  la.locktype = type;
  la.offset = offset;
  la.length = length;
  la.locker.new_lock_owner = false;
  la.locker.lock_stateid = lock_stateid;
  return la;
}

inline LockResult do_lock(NfsClient& c, const Fh& fh, const LockArgs& la) {
  auto r = c.call(c.builder().op(OP_PUTFH, PutFhArgs{fh}).op(OP_LOCK, la));
  if (r.count == 0) throw CompoundError("SEQUENCE failed");
  EXPECT_EQ(r.next_status(OP_PUTFH), NFS4_OK);
  return r.next<LockResult>(OP_LOCK);
}

inline LocktResult do_lockt(NfsClient& c, const Fh& fh, nfs_lock_type4 type, uint64_t offset,
                            uint64_t length, const std::string& owner) {
  LocktArgs la;
  la.locktype = type;
  la.offset = offset;
  la.length = length;
  la.owner.clientid = c.clientid;
  la.owner.owner = to_bytes(owner);
  auto r = c.call(c.builder().op(OP_PUTFH, PutFhArgs{fh}).op(OP_LOCKT, la));
  EXPECT_EQ(r.next_status(OP_PUTFH), NFS4_OK);
  return r.next<LocktResult>(OP_LOCKT);
}

inline StateidResult do_locku(NfsClient& c, const Fh& fh, nfs_lock_type4 type, uint64_t offset,
                              uint64_t length, const Stateid& lock_stateid) {
  LockuArgs la;
  la.locktype = type;
  la.stateid = lock_stateid;
  la.offset = offset;
  la.length = length;
  auto r = c.call(c.builder().op(OP_PUTFH, PutFhArgs{fh}).op(OP_LOCKU, la));
  EXPECT_EQ(r.next_status(OP_PUTFH), NFS4_OK);
  return r.next<StateidResult>(OP_LOCKU);
}

inline StateidResult do_close(NfsClient& c, const Fh& fh, const Stateid& s) {
  auto r = c.call(c.builder().op(OP_PUTFH, PutFhArgs{fh}).op(OP_CLOSE, StateidSeqArgs{0, s}));
  EXPECT_EQ(r.next_status(OP_PUTFH), NFS4_OK);
  return r.next<StateidResult>(OP_CLOSE);
}

// ---- I/O ----------------------------------------------------------------------------------

inline WriteResult do_write(NfsClient& c, const Fh& fh, const Stateid& s, uint64_t offset,
                            std::span<const uint8_t> data, stable_how4 how = FILE_SYNC4) {
  WriteArgs wa;
  wa.stateid = s;
  wa.offset = offset;
  wa.stable = how;
  wa.data.bytes = data;
  auto r = c.call(c.builder().op(OP_PUTFH, PutFhArgs{fh}).op(OP_WRITE, wa));
  if (r.count == 0) throw CompoundError("SEQUENCE failed: " + std::to_string(r.status));
  EXPECT_EQ(r.next_status(OP_PUTFH), NFS4_OK);
  return r.next<WriteResult>(OP_WRITE);
}

struct ReadOutcome {
  nfsstat4 status = NFS4_OK;
  bool eof = false;
  std::vector<uint8_t> data;
};

inline ReadOutcome do_read(NfsClient& c, const Fh& fh, const Stateid& s, uint64_t offset,
                           uint32_t count) {
  auto r = c.call(c.builder().op(OP_PUTFH, PutFhArgs{fh}).op(OP_READ, ReadArgs{s, offset, count}));
  if (r.count == 0) throw CompoundError("SEQUENCE failed: " + std::to_string(r.status));
  EXPECT_EQ(r.next_status(OP_PUTFH), NFS4_OK);
  auto rr = r.next<ReadResult>(OP_READ);
  ReadOutcome out;
  out.status = rr.status;
  if (rr.status == NFS4_OK) {
    out.eof = rr.ok.eof;
    out.data.assign(rr.ok.pieces[0].bytes.begin(), rr.ok.pieces[0].bytes.end());
  }
  return out;
}

// ---- waiting ------------------------------------------------------------------------------

// Polls `cond` every `step` until it holds or `limit` passes; true if it held.
inline bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds limit,
                       std::chrono::milliseconds step = std::chrono::milliseconds(100)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

// Waits (at most 15 s) until `state` keeps `away`, which sends nothing meanwhile, as a
// courtesy client (its lease ran out while it held state); `present` renews its own lease
// all the while. True if it did.
inline bool became_courtesy(nfs4::state::StateManager& state, const NfsClient& away,
                            NfsClient& present) {
  return eventually(
      [&] {
        present.call(present.builder());
        auto s = state.client(away.clientid);
        return s && s->courtesy;
      },
      std::chrono::seconds(15), std::chrono::milliseconds(200));
}

// A server with a test client that has a session and the export's handle.
class Nfs4Test : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    c = client();
    exp = c->lookup_path("/export");
  }
  std::unique_ptr<NfsClient> c;
  Fh exp;
};

}  // namespace dfs::testing
