#include "workloads.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <sstream>
#include <type_traits>

#include "nfs4/attributes.h"

namespace dfs::bench {
namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr uint64_t kGiB = 1024 * kMiB;
constexpr uint32_t kStampBlock = 4096;  // every 4 KiB block of written data starts with its offset

using Opened = NfsClient::Opened;

// The attributes the Linux client asks for in GETATTR (nfs4_fattr_bitmap) and with READDIR
// for `ls -l`; a server may leave out the ones it does not support.
Bitmap stat_attrs() {
  return Bitmap{FATTR4_TYPE,          FATTR4_CHANGE,      FATTR4_SIZE,
                FATTR4_FSID,          FATTR4_FILEID,      FATTR4_MODE,
                FATTR4_NUMLINKS,      FATTR4_OWNER,       FATTR4_OWNER_GROUP,
                FATTR4_RAWDEV,        FATTR4_SPACE_USED,  FATTR4_TIME_ACCESS,
                FATTR4_TIME_METADATA, FATTR4_TIME_MODIFY, 55 /* mounted_on_fileid */};
}

// Concatenates strings and numbers (instead of "x" + std::to_string(n), on which GCC 12
// at -O3 reports a false -Wrestrict).
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::string out;
  auto add = [&out](const auto& p) {
    if constexpr (std::is_arithmetic_v<std::decay_t<decltype(p)>>) {
      out += std::to_string(p);
    } else {
      out += p;
    }
  };
  (add(parts), ...);
  return out;
}

void put_be64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}
void put_be32(uint8_t* p, uint32_t v) {
  for (int i = 3; i >= 0; --i) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}
uint64_t get_be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | p[i];
  return v;
}
uint32_t get_be32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v = (v << 8) | p[i];
  return v;
}

// A WRITE COMPOUND (SEQUENCE, PUTFH, WRITE) encoded once per slot; each use patches the
// sequence id, the offset and the offset stamps in the data, then sends it with one copy.
class WriteTemplate {
 public:
  void build(Slot& s, const Fh& fh, const Stateid& sid, std::span<const uint8_t> data,
             stable_how4 how) {
    auto& nfs = s.conn().nfs();
    SequenceArgs seq;
    seq.sessionid = nfs.sessionid;
    seq.sequenceid = 0xA5A5A5A5u;
    seq.slotid = s.id();
    seq.highest_slotid = static_cast<uint32_t>(nfs.slot_seq.size() - 1);
    CompoundBuilder b(1);
    b.op(OP_SEQUENCE, seq).op(OP_PUTFH, PutFhArgs{fh});
    size_t prefix = b.encode().size();
    WriteArgs wa;
    wa.stateid = sid;
    wa.offset = 0x0102030405060708ull;
    wa.stable = how;
    wa.data.bytes = data;
    b.op(OP_WRITE, wa);
    buf_ = b.encode();
    seq_pos_ = CompoundBuilder(1).encode().size() + 4 + sizeof(SessionId);
    off_pos_ = prefix + 4 + 4 + kOtherSize;
    data_pos_ = off_pos_ + 8 + 4 + 4;
    len_ = static_cast<uint32_t>(data.size());
    if (get_be32(buf_.data() + seq_pos_) != 0xA5A5A5A5u ||
        get_be64(buf_.data() + off_pos_) != 0x0102030405060708ull ||
        get_be32(buf_.data() + data_pos_ - 4) != len_) {
      throw std::logic_error("WRITE template layout is not what the encoder produced");
    }
  }
  uint32_t len() const { return len_; }
  std::span<const uint8_t> prepare(Slot& s, uint64_t offset) {
    put_be32(buf_.data() + seq_pos_, s.next_seqid());
    put_be64(buf_.data() + off_pos_, offset);
    for (uint32_t k = 0; k + 8 <= len_; k += kStampBlock) {
      put_be64(buf_.data() + data_pos_ + k, offset + k);
    }
    return buf_.span();
  }

 private:
  xdr::ByteBuffer buf_;
  size_t seq_pos_ = 0, off_pos_ = 0, data_pos_ = 0;
  uint32_t len_ = 0;
};

// Per-connection state the slots of one connection share (touched only by its thread).
struct PerConn {
  Opened file;
  uint64_t next_off = 0;  // next offset to hand out
  uint64_t begin_off = 0;
  uint64_t end_off = 0;
  size_t active = 0;               // slots still running in a phase that ends with COMMIT
  std::vector<uint64_t> created;   // files created per slot (smallfile)
  std::vector<WriteTemplate> tpl;  // one per slot
  std::mt19937_64 rng;
};

struct Ctx {
  const Options& opt;
  std::vector<std::unique_ptr<Connection>> conns;
  Fh exported;
  Fh root;  // this run's directory
  std::string root_name;
  std::vector<Fh> dirs;
  std::vector<std::string> dir_names;
  Clock::time_point deadline;
  std::atomic<uint64_t> next{0};
  uint64_t limit = 0;
  uint32_t io = 0;
  uint64_t size = 0;
  std::vector<uint8_t> data;
  std::vector<PerConn> pc;

  explicit Ctx(const Options& o) : opt(o) {}
  PerConn& of(Connection& c) { return pc[static_cast<size_t>(c.index())]; }
  size_t depth() const { return conns[0]->slots().size(); }
  NfsClient& nfs0() { return conns[0]->nfs(); }
};

std::string slot_owner(Slot& s) {
  return "loadgen-slot-" + std::to_string(s.id());
}

OpenArgs open_args(Slot& s, const std::string& name, bool create, uint32_t access) {
  OpenArgs oa;
  oa.share_access = access;
  oa.share_deny = OPEN4_SHARE_DENY_NONE;
  oa.owner.clientid = s.conn().nfs().clientid;
  std::string owner = slot_owner(s);
  oa.owner.owner.assign(owner.begin(), owner.end());
  oa.how.opentype = create ? OPEN4_CREATE : OPEN4_NOCREATE;
  oa.how.mode = UNCHECKED4;
  if (create) {
    oa.how.createattrs.mask = Bitmap{FATTR4_MODE};
    xdr::Encoder e(oa.how.createattrs.vals);
    e.u32(0644);
  }
  oa.claim.type = CLAIM_NULL;
  oa.claim.file = name;
  return oa;
}

// PUTFH dir; OPEN name; GETFH. Fills `out` and returns true on success.
bool parse_open(Slot& s, CompoundReply& r, Opened& out, const std::string& what) {
  if (!s.check(r.status, what)) return false;
  r.next_status(OP_PUTFH);
  auto o = r.next<OpenResult>(OP_OPEN);
  out.stateid = o.ok.stateid;
  out.fh = r.next<GetFhResult>(OP_GETFH).ok.object;
  return true;
}

CompoundBuilder& add_open(CompoundBuilder& b, Slot& s, const Fh& dir, const std::string& name,
                          bool create, uint32_t access) {
  return b.op(OP_PUTFH, PutFhArgs{dir})
      .op(OP_OPEN, open_args(s, name, create, access))
      .op(OP_GETFH);
}

bool stamp_ok(std::span<const uint8_t> bytes, uint64_t offset) {
  return bytes.size() >= 8 && get_be64(bytes.data()) == offset;
}

std::string hex_random() {
  std::random_device rd;
  std::ostringstream os;
  os << std::hex << rd() << rd();
  return os.str();
}

// ---- rpc-null, seq-only ----------------------------------------------------------------

Task null_slot(Ctx& x, Connection& c, Slot& s) {
  while (Clock::now() < x.deadline) {
    co_await s.null();
    c.stats().ops++;
  }
}

Task sequence_slot(Ctx& x, Connection& c, Slot& s) {
  while (Clock::now() < x.deadline) {
    auto b = s.begin();
    auto r = co_await s.call(b);
    if (s.check(r.status, "SEQUENCE")) c.stats().ops++;
  }
}

// ---- metadata: OPEN(create)+GETFH, CLOSE, GETATTR, REMOVE per file -------------------------

Task metadata_slot(Ctx& x, Connection& c, Slot& s) {
  uint64_t i = 0;
  while (Clock::now() < x.deadline) {
    std::string name = cat("m", c.index(), "_", s.id(), "_", i);
    const Fh& dir =
        x.dirs[(static_cast<uint64_t>(c.index()) * 7919 + s.id() * 131 + i) % x.dirs.size()];
    ++i;
    Opened o;
    {
      auto b = s.begin();
      add_open(b, s, dir, name, true, OPEN4_SHARE_ACCESS_BOTH);
      auto r = co_await s.call(b);
      if (!parse_open(s, r, o, "OPEN(create)")) continue;
    }
    {
      auto b = s.begin();
      b.op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_CLOSE, StateidSeqArgs{0, o.stateid});
      auto r = co_await s.call(b);
      s.check(r.status, "CLOSE");
    }
    {
      auto b = s.begin();
      b.op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_GETATTR, GetattrArgs{stat_attrs()});
      auto r = co_await s.call(b);
      s.check(r.status, "GETATTR");
    }
    {
      auto b = s.begin();
      b.op(OP_PUTFH, PutFhArgs{dir}).op(OP_REMOVE, ComponentArgs{name});
      auto r = co_await s.call(b);
      if (!s.check(r.status, "REMOVE")) continue;
    }
    c.stats().ops++;
  }
}

// ---- smallfile: create + WRITE 4 KiB + CLOSE, then OPEN + READ + CLOSE -------------------

std::string small_name(Connection& c, Slot& s, uint64_t i) {
  return cat("s", c.index(), "_", s.id(), "_", i);
}
const Fh& small_dir(Ctx& x, Connection& c, Slot& s, uint64_t i) {
  return x.dirs[(static_cast<uint64_t>(c.index()) * 7919 + s.id() * 131 + i) % x.dirs.size()];
}

Task smallfile_slot(Ctx& x, Connection& c, Slot& s) {
  auto& created = x.of(c).created[s.id()];
  const uint32_t len = x.io;
  std::vector<uint8_t> payload(x.data.begin(), x.data.begin() + len);
  while (Clock::now() < x.deadline) {
    uint64_t i = created;
    std::string name = small_name(c, s, i);
    const Fh& dir = small_dir(x, c, s, i);
    uint64_t stamp = (static_cast<uint64_t>(c.index()) << 48) | (uint64_t{s.id()} << 32) | i;
    put_be64(payload.data(), stamp);
    Opened o;
    {
      auto b = s.begin();
      add_open(b, s, dir, name, true, OPEN4_SHARE_ACCESS_BOTH);
      auto r = co_await s.call(b);
      if (!parse_open(s, r, o, "OPEN(create)")) continue;
    }
    created = i + 1;
    {
      // One WRITE holding the whole file is FILE_SYNC, as the Linux client sends it.
      WriteArgs wa;
      wa.stateid = o.stateid;
      wa.offset = 0;
      wa.stable = FILE_SYNC4;
      wa.data.bytes = payload;
      auto b = s.begin();
      b.op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_WRITE, wa);
      auto r = co_await s.call(b);
      if (s.check(r.status, "WRITE")) {
        r.next_status(OP_PUTFH);
        auto w = r.next<WriteResult>(OP_WRITE);
        if (w.ok.count != len) s.check(NFS4ERR_IO, "WRITE short count");
      }
    }
    {
      auto b = s.begin();
      b.op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_CLOSE, StateidSeqArgs{0, o.stateid});
      auto r = co_await s.call(b);
      s.check(r.status, "CLOSE");
    }
    Opened rd;
    {
      auto b = s.begin();
      add_open(b, s, dir, name, false, OPEN4_SHARE_ACCESS_READ);
      auto r = co_await s.call(b);
      if (!parse_open(s, r, rd, "OPEN(read)")) continue;
    }
    {
      auto b = s.begin();
      b.op(OP_PUTFH, PutFhArgs{rd.fh}).op(OP_READ, ReadArgs{rd.stateid, 0, len});
      auto r = co_await s.call(b);
      if (s.check(r.status, "READ")) {
        r.next_status(OP_PUTFH);
        auto rr = r.next<ReadResult>(OP_READ);
        auto bytes = rr.ok.pieces[0].bytes;
        if (bytes.size() != len || !stamp_ok(bytes, stamp))
          s.check(NFS4ERR_IO, "READ data mismatch");
      }
    }
    {
      auto b = s.begin();
      b.op(OP_PUTFH, PutFhArgs{rd.fh}).op(OP_CLOSE, StateidSeqArgs{0, rd.stateid});
      auto r = co_await s.call(b);
      s.check(r.status, "CLOSE");
    }
    c.stats().ops++;
    c.stats().bytes += 2ull * len;
  }
}

Task smallfile_cleanup_slot(Ctx& x, Connection& c, Slot& s) {
  uint64_t n = x.of(c).created[s.id()];
  for (uint64_t i = 0; i < n; ++i) {
    auto b = s.begin();
    b.op(OP_PUTFH, PutFhArgs{small_dir(x, c, s, i)})
        .op(OP_REMOVE, ComponentArgs{small_name(c, s, i)});
    auto r = co_await s.call(b);
    if (s.check(r.status, "REMOVE")) c.stats().ops++;
  }
}

// ---- large-file I/O --------------------------------------------------------------------

// Writes [begin_off, end_off) of the connection's file in io-sized UNSTABLE WRITEs handed out
// to the slots in order, then COMMITs.
Task write_range_slot(Ctx& x, Connection& c, Slot& s) {
  auto& p = x.of(c);
  auto& t = p.tpl[s.id()];
  while (p.next_off < p.end_off) {
    uint64_t off = p.next_off;
    p.next_off += t.len();
    auto r = co_await s.call_encoded(t.prepare(s, off));
    if (!s.check(r.status, "WRITE")) continue;
    r.next_status(OP_PUTFH);
    auto w = r.next<WriteResult>(OP_WRITE);
    if (w.ok.count != t.len()) s.check(NFS4ERR_IO, "WRITE short count");
    c.stats().ops++;
    c.stats().bytes += w.ok.count;
  }
  if (--p.active == 0) {
    auto b = s.begin();
    b.op(OP_PUTFH, PutFhArgs{p.file.fh}).op(OP_COMMIT, CommitArgs{0, 0});
    auto r = co_await s.call(b);
    s.check(r.status, "COMMIT");
  }
}

// READs of x.io until the deadline, each checked against the stamps written into the data:
// sequential through [begin_off, end_off) and starting over at the end, or at random
// x.io-aligned offsets of the x.size file.
Task read_slot(Ctx& x, Connection& c, Slot& s, bool random) {
  auto& p = x.of(c);
  const uint64_t blocks = x.size / x.io;
  while (Clock::now() < x.deadline) {
    uint64_t off;
    if (random) {
      off = (p.rng() % blocks) * x.io;
    } else {
      off = p.next_off;
      p.next_off += x.io;
      if (p.next_off >= p.end_off) p.next_off = p.begin_off;
    }
    auto b = s.begin();
    b.op(OP_PUTFH, PutFhArgs{p.file.fh}).op(OP_READ, ReadArgs{p.file.stateid, off, x.io});
    auto r = co_await s.call(b);
    if (!s.check(r.status, "READ")) continue;
    r.next_status(OP_PUTFH);
    auto rr = r.next<ReadResult>(OP_READ);
    auto bytes = rr.ok.pieces[0].bytes;
    if (bytes.size() != x.io || !stamp_ok(bytes, off)) s.check(NFS4ERR_IO, "READ data mismatch");
    c.stats().ops++;
    c.stats().bytes += bytes.size();
  }
}

Task write_random_slot(Ctx& x, Connection& c, Slot& s) {
  auto& p = x.of(c);
  auto& t = p.tpl[s.id()];
  const uint64_t blocks = x.size / t.len();
  while (Clock::now() < x.deadline) {
    uint64_t off = (p.rng() % blocks) * t.len();
    auto r = co_await s.call_encoded(t.prepare(s, off));
    if (!s.check(r.status, "WRITE")) continue;
    r.next_status(OP_PUTFH);
    auto w = r.next<WriteResult>(OP_WRITE);
    if (w.ok.count != t.len()) s.check(NFS4ERR_IO, "WRITE short count");
    c.stats().ops++;
    c.stats().bytes += w.ok.count;
  }
  if (--p.active == 0) {
    auto b = s.begin();
    b.op(OP_PUTFH, PutFhArgs{p.file.fh}).op(OP_COMMIT, CommitArgs{0, 0});
    auto r = co_await s.call(b);
    s.check(r.status, "COMMIT");
  }
}

// ---- bigdir ----------------------------------------------------------------------------

std::string entry_name(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "e%07llu", static_cast<unsigned long long>(i));
  return buf;
}

Task bigdir_create_slot(Ctx& x, Connection& c, Slot& s) {
  for (;;) {
    uint64_t i = x.next.fetch_add(1);
    if (i >= x.limit) break;
    Opened o;
    {
      auto b = s.begin();
      add_open(b, s, x.dirs[0], entry_name(i), true, OPEN4_SHARE_ACCESS_BOTH);
      auto r = co_await s.call(b);
      if (!parse_open(s, r, o, "OPEN(create)")) continue;
    }
    auto b = s.begin();
    b.op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_CLOSE, StateidSeqArgs{0, o.stateid});
    auto r = co_await s.call(b);
    if (s.check(r.status, "CLOSE")) c.stats().ops++;
  }
}

// One whole listing of the directory per connection (slot 0), with `ls -l` attributes.
Task bigdir_list_slot(Ctx& x, Connection& c, Slot& s) {
  ReaddirArgs ra;
  ra.cookie = 0;
  ra.dircount = x.opt.readdir_size;
  ra.maxcount = x.opt.readdir_size;
  ra.attr_request = stat_attrs();
  uint64_t seen = 0;
  for (;;) {
    auto b = s.begin();
    b.op(OP_PUTFH, PutFhArgs{x.dirs[0]}).op(OP_READDIR, ra);
    auto r = co_await s.call(b);
    if (!s.check(r.status, "READDIR")) co_return;
    r.next_status(OP_PUTFH);
    auto rd = r.next<ReaddirResult>(OP_READDIR);
    seen += rd.ok.entries.size();
    c.stats().ops += rd.ok.entries.size();
    if (rd.ok.eof) break;
    if (rd.ok.entries.empty()) {
      s.check(NFS4ERR_IO, "READDIR: no entries and no eof");
      co_return;
    }
    ra.cookie = rd.ok.entries.back().cookie;
    ra.cookieverf = rd.ok.cookieverf;
  }
  if (seen != x.limit) {
    c.stats().failures.push_back("READDIR listed " + std::to_string(seen) + " entries, expected " +
                                 std::to_string(x.limit));
  }
}

Task bigdir_remove_slot(Ctx& x, Connection& c, Slot& s) {
  for (;;) {
    uint64_t i = x.next.fetch_add(1);
    if (i >= x.limit) break;
    auto b = s.begin();
    b.op(OP_PUTFH, PutFhArgs{x.dirs[0]}).op(OP_REMOVE, ComponentArgs{entry_name(i)});
    auto r = co_await s.call(b);
    if (s.check(r.status, "REMOVE")) c.stats().ops++;
  }
}

// ---- set-up helpers --------------------------------------------------------------------

using Body = std::function<Task(Connection&, Slot&)>;

PhaseResult phase(Ctx& x, const std::string& name, const std::string& unit, Body body,
                  size_t nslots = SIZE_MAX) {
  return run_phase(x.conns, name, unit, body, nslots, x.opt.server_pid);
}

// An untimed phase: its errors still count, so they are kept as a failure of the first timed
// phase when any happened.
void prep(Ctx& x, WorkloadResult& res, const std::string& name, Body body) {
  auto p = phase(x, name, "ops", std::move(body));
  if (p.stats.error_count() == 0) return;
  std::ostringstream os;
  os << name << " (untimed) had " << p.stats.error_count() << " errors:";
  for (const auto& [k, v] : p.stats.errors)
    os << " " << k << " x" << v << ";";
  for (const auto& f : p.stats.failures)
    os << " " << f << ";";
  res.notes.push_back(os.str());
}

void make_dirs(Ctx& x, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) {
    std::string name = cat("d", i);
    Fh fh;
    auto st = x.nfs0().mkdir(x.root, name, &fh);
    if (st != NFS4_OK) throw std::runtime_error("mkdir " + name + ": " + status_name(st));
    x.dirs.push_back(fh);
    x.dir_names.push_back(name);
  }
}

void remove_dirs(Ctx& x) {
  for (const auto& n : x.dir_names)
    x.nfs0().remove(x.root, n);
  x.dirs.clear();
  x.dir_names.clear();
}

// Opens (creating) `name` in the run directory on every connection, each session with its
// own open stateid, and builds each slot's WRITE template.
void open_on_all(Ctx& x, const std::string& name_prefix, bool shared, stable_how4 how,
                 uint32_t wlen) {
  for (auto& c : x.conns) {
    auto& p = x.of(*c);
    std::string name = shared ? name_prefix : cat(name_prefix, c->index());
    auto st = c->nfs().open(x.root, name, OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE, true,
                            p.file, "loadgen-file");
    if (st != NFS4_OK) throw std::runtime_error("OPEN " + name + ": " + status_name(st));
    p.tpl.resize(c->slots().size());
    std::span<const uint8_t> data(x.data.data(), wlen);
    for (auto& s : c->slots())
      p.tpl[s->id()].build(*s, p.file.fh, p.file.stateid, data, how);
  }
}

void close_and_remove(Ctx& x, const std::string& name_prefix, bool shared) {
  for (auto& c : x.conns) {
    if (c->broken()) continue;
    c->nfs().close(x.of(*c).file);
    if (!shared) x.nfs0().remove(x.root, cat(name_prefix, c->index()));
  }
  if (shared) x.nfs0().remove(x.root, name_prefix);
}

void set_ranges(Ctx& x, bool shared, uint64_t per_conn) {
  for (auto& c : x.conns) {
    auto& p = x.of(*c);
    p.begin_off = shared ? per_conn * static_cast<uint64_t>(c->index()) : 0;
    p.end_off = p.begin_off + per_conn;
    p.next_off = p.begin_off;
    p.active = c->slots().size();
  }
}

// ---- the workloads -----------------------------------------------------------------------

void set_deadline(Ctx& x) {
  x.deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(x.opt.duration));
}

void run_null(Ctx& x, WorkloadResult& res) {
  set_deadline(x);
  res.phases.push_back(
      phase(x, "rpc-null", "calls", [&](Connection& c, Slot& s) { return null_slot(x, c, s); }));
}

void run_seq_only(Ctx& x, WorkloadResult& res) {
  set_deadline(x);
  res.phases.push_back(phase(x, "seq-only", "compounds",
                             [&](Connection& c, Slot& s) { return sequence_slot(x, c, s); }));
}

void run_metadata(Ctx& x, WorkloadResult& res) {
  make_dirs(x, std::max<uint32_t>(1, x.opt.dirs));
  set_deadline(x);
  res.phases.push_back(phase(x, "metadata", "files",
                             [&](Connection& c, Slot& s) { return metadata_slot(x, c, s); }));
  remove_dirs(x);
}

void run_smallfile(Ctx& x, WorkloadResult& res) {
  make_dirs(x, std::max<uint32_t>(1, x.opt.dirs));
  for (auto& c : x.conns)
    x.of(*c).created.assign(c->slots().size(), 0);
  set_deadline(x);
  res.phases.push_back(phase(x, "smallfile", "files",
                             [&](Connection& c, Slot& s) { return smallfile_slot(x, c, s); }));
  prep(x, res, "smallfile cleanup",
       [&](Connection& c, Slot& s) { return smallfile_cleanup_slot(x, c, s); });
  remove_dirs(x);
}

uint64_t round_down(uint64_t v, uint64_t unit) {
  return std::max(unit, v / unit * unit);
}

void run_seqwrite(Ctx& x, WorkloadResult& res) {
  uint64_t per_conn = round_down(x.size / x.conns.size(), x.io);
  x.size = per_conn * x.conns.size();
  open_on_all(x, "seq", false, UNSTABLE4, x.io);
  set_ranges(x, false, per_conn);
  res.phases.push_back(phase(x, "seqwrite", "writes",
                             [&](Connection& c, Slot& s) { return write_range_slot(x, c, s); }));
  close_and_remove(x, "seq", false);
}

// The files of seqwrite written once untimed, then written over again in place: the cost of
// the write path itself, without the kernel's price for memory (or disk space) a server has
// never used before, which dominates seqwrite on a fresh server.
void run_seqoverwrite(Ctx& x, WorkloadResult& res) {
  uint64_t per_conn = round_down(x.size / x.conns.size(), x.io);
  x.size = per_conn * x.conns.size();
  open_on_all(x, "seq", false, UNSTABLE4, x.io);
  set_ranges(x, false, per_conn);
  prep(x, res, "seqoverwrite fill",
       [&](Connection& c, Slot& s) { return write_range_slot(x, c, s); });
  set_ranges(x, false, per_conn);
  res.phases.push_back(phase(x, "seqoverwrite", "writes",
                             [&](Connection& c, Slot& s) { return write_range_slot(x, c, s); }));
  close_and_remove(x, "seq", false);
}

void run_seqread(Ctx& x, WorkloadResult& res) {
  uint64_t per_conn = round_down(x.size / x.conns.size(), x.io);
  x.size = per_conn * x.conns.size();
  open_on_all(x, "seq", false, UNSTABLE4, x.io);
  set_ranges(x, false, per_conn);
  prep(x, res, "seqread fill", [&](Connection& c, Slot& s) { return write_range_slot(x, c, s); });
  set_ranges(x, false, per_conn);
  set_deadline(x);
  res.phases.push_back(phase(x, "seqread", "reads", [&](Connection& c, Slot& s) {
    return read_slot(x, c, s, /*random=*/false);
  }));
  close_and_remove(x, "seq", false);
}

// The 1 GiB file of randread / randwrite, filled in 1 MiB UNSTABLE writes by all connections.
void fill_shared_file(Ctx& x, WorkloadResult& res, uint32_t fill_io) {
  uint64_t per_conn = round_down(x.size / x.conns.size(), fill_io);
  x.size = per_conn * x.conns.size();
  open_on_all(x, "rand", true, UNSTABLE4, fill_io);
  set_ranges(x, true, per_conn);
  prep(x, res, "fill", [&](Connection& c, Slot& s) { return write_range_slot(x, c, s); });
}

void run_randread(Ctx& x, WorkloadResult& res, uint32_t fill_io) {
  fill_shared_file(x, res, fill_io);
  set_deadline(x);
  res.phases.push_back(phase(x, "randread", "reads", [&](Connection& c, Slot& s) {
    return read_slot(x, c, s, /*random=*/true);
  }));
  close_and_remove(x, "rand", true);
}

void run_randwrite(Ctx& x, WorkloadResult& res, uint32_t fill_io) {
  fill_shared_file(x, res, fill_io);
  // Rebuild the templates with the small I/O size.
  for (auto& c : x.conns) {
    auto& p = x.of(*c);
    std::span<const uint8_t> data(x.data.data(), x.io);
    for (auto& s : c->slots())
      p.tpl[s->id()].build(*s, p.file.fh, p.file.stateid, data, UNSTABLE4);
    p.active = c->slots().size();
  }
  set_deadline(x);
  res.phases.push_back(phase(x, "randwrite", "writes",
                             [&](Connection& c, Slot& s) { return write_random_slot(x, c, s); }));
  close_and_remove(x, "rand", true);
}

void run_bigdir(Ctx& x, WorkloadResult& res) {
  make_dirs(x, 1);
  x.limit = x.opt.entries;
  x.next = 0;
  res.phases.push_back(phase(x, "bigdir-create", "entries",
                             [&](Connection& c, Slot& s) { return bigdir_create_slot(x, c, s); }));
  res.phases.push_back(phase(
      x, "bigdir-readdir", "entries",
      [&](Connection& c, Slot& s) { return bigdir_list_slot(x, c, s); }, 1));
  x.next = 0;
  res.phases.push_back(phase(x, "bigdir-remove", "entries",
                             [&](Connection& c, Slot& s) { return bigdir_remove_slot(x, c, s); }));
  remove_dirs(x);
}

}  // namespace

const std::vector<std::string>& workload_names() {
  static const std::vector<std::string> names = {
      "rpc-null",     "seq-only", "metadata", "smallfile", "seqwrite",
      "seqoverwrite", "seqread",  "randread", "randwrite", "bigdir"};
  return names;
}

WorkloadResult run_workload(const Options& opt) {
  WorkloadResult res;
  const std::string& w = opt.workload;
  const bool large = w == "seqwrite" || w == "seqoverwrite" || w == "seqread";
  const bool random = w == "randread" || w == "randwrite";
  uint32_t want_io = opt.io_size ? opt.io_size : (large ? 1u << 20 : 4096u);
  const uint32_t fill_io = 1u << 20;
  try {
    Ctx x(opt);
    x.size = opt.size ? opt.size : (large || random ? kGiB : 0);
    // Room for a 1 MiB READ/WRITE plus its COMPOUND and RPC headers, as the Linux client asks.
    const uint32_t max_message = std::max<uint32_t>(want_io, 1u << 20) + 16 * 1024;
    for (uint32_t i = 0; i < std::max<uint32_t>(1, opt.connections); ++i) {
      auto c =
          std::make_unique<Connection>(static_cast<int>(i), opt.host, opt.port, opt.uid, opt.gid);
      c->establish(std::max<uint32_t>(1, opt.depth), max_message);
      x.conns.push_back(std::move(c));
    }
    res.depth_granted = UINT32_MAX;
    uint32_t max_req = UINT32_MAX, max_resp = UINT32_MAX;
    for (auto& c : x.conns) {
      res.depth_granted =
          std::min<uint32_t>(res.depth_granted, static_cast<uint32_t>(c->slots().size()));
      max_req = std::min(max_req, c->nfs().fore.maxrequestsize);
      max_resp = std::min(max_resp, c->nfs().fore.maxresponsesize);
    }
    if (res.depth_granted < opt.depth) {
      res.notes.push_back("server granted " + std::to_string(res.depth_granted) + " of " +
                          std::to_string(opt.depth) + " slots per session");
    }
    x.pc.resize(x.conns.size());
    for (auto& c : x.conns) {
      x.of(*c).rng.seed(0x9E3779B97F4A7C15ull * static_cast<uint64_t>(c->index() + 1));
    }
    x.exported = x.nfs0().lookup_path(opt.export_path);

    // The largest READ/WRITE the server allows: its maxread/maxwrite and the session's
    // message sizes less room for the COMPOUND and RPC headers.
    uint64_t server_max = UINT64_MAX;
    for (uint32_t attr : {FATTR4_MAXREAD, FATTR4_MAXWRITE}) {
      try {
        uint64_t v = x.nfs0().getattr_u64(x.exported, attr);
        if (v > 0) server_max = std::min(server_max, v);
      } catch (const std::exception&) {
        // not supported: the session limits still apply
      }
    }
    const uint32_t overhead = 1024;
    server_max = std::min<uint64_t>(server_max, std::min(max_req, max_resp) - overhead);
    server_max = std::max<uint64_t>(4096, server_max / 4096 * 4096);
    x.io = static_cast<uint32_t>(std::min<uint64_t>(want_io, server_max));
    if (x.io < want_io) {
      res.notes.push_back("I/O size limited by the server to " + std::to_string(x.io) + " bytes");
    }
    res.io_size = x.io;
    const uint32_t fill = static_cast<uint32_t>(std::min<uint64_t>(fill_io, server_max));
    x.data.resize(std::max(x.io, fill));
    std::mt19937_64 rng(42);
    for (auto& b : x.data)
      b = static_cast<uint8_t>(rng());

    x.root_name = cat("loadgen-", ::getpid(), "-", hex_random());
    auto st = x.nfs0().mkdir(x.exported, x.root_name, &x.root);
    if (st != NFS4_OK) throw std::runtime_error("mkdir " + x.root_name + ": " + status_name(st));

    if (w == "rpc-null") {
      run_null(x, res);
    } else if (w == "seq-only") {
      run_seq_only(x, res);
    } else if (w == "metadata") {
      run_metadata(x, res);
    } else if (w == "smallfile") {
      run_smallfile(x, res);
    } else if (w == "seqwrite") {
      run_seqwrite(x, res);
    } else if (w == "seqoverwrite") {
      run_seqoverwrite(x, res);
    } else if (w == "seqread") {
      run_seqread(x, res);
    } else if (w == "randread") {
      run_randread(x, res, fill);
    } else if (w == "randwrite") {
      run_randwrite(x, res, fill);
    } else if (w == "bigdir") {
      run_bigdir(x, res);
    } else {
      throw std::invalid_argument("unknown workload " + w);
    }
    res.size = x.size;

    bool any_broken = false;
    for (auto& c : x.conns)
      any_broken = any_broken || c->broken();
    if (!any_broken) {
      st = x.nfs0().remove(x.exported, x.root_name);
      if (st != NFS4_OK) {
        res.notes.push_back("removing " + x.root_name + " failed: " + status_name(st));
      }
      for (auto& c : x.conns)
        c->destroy();
    }
  } catch (const std::exception& e) {
    res.error = e.what();
  }
  return res;
}

}  // namespace dfs::bench
