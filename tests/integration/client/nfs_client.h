#pragma once
// The project's own NFSv4.1 client for tests and benchmarks: builds COMPOUNDs from the same
// wire declarations the server uses, sends them over a real socket and decodes the results.
// It exposes the protocol (sessions, slots, stateids) rather than hiding it, so tests can
// produce exact wire scenarios: replays, false retries, misordered slots, bad XDR.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "nfs4/op_types.h"
#include "rpc/client.h"
#include "xdr/xdr.h"

namespace dfs::testing {

using namespace dfs::nfs4;

// A COMPOUND request under construction.
class CompoundBuilder {
 public:
  explicit CompoundBuilder(uint32_t minor = 1, std::string tag = "") : minor_(minor), tag_(tag) {}

  template <class Args>
  CompoundBuilder& op(uint32_t opnum, const Args& args) {
    // Encoded apart and flattened: data the encoder splices in by reference (WRITE's
    // payload) would otherwise be lost with the encoder.
    xdr::ByteBuffer one;
    xdr::Encoder e(one);
    e.u32(opnum);
    xdr::io(e, args);
    e.flatten_into(ops_);
    ++count_;
    return *this;
  }
  CompoundBuilder& op(uint32_t opnum) {
    xdr::Encoder e(ops_);
    e.u32(opnum);
    ++count_;
    return *this;
  }
  // Raw bytes appended as they are (for malformed requests); counts as `ops` operations.
  CompoundBuilder& raw(std::span<const uint8_t> bytes, uint32_t ops = 1) {
    ops_.append(bytes.data(), bytes.size());
    count_ += ops;
    return *this;
  }
  void set_count(uint32_t n) {
    count_ = n;
    forced_count_ = true;
  }
  uint32_t count() const { return count_; }
  xdr::ByteBuffer encode() const;

 private:
  uint32_t minor_;
  std::string tag_;
  uint32_t count_ = 0;
  bool forced_count_ = false;
  xdr::ByteBuffer ops_;
};

struct CompoundError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A COMPOUND reply, read result by result.
class CompoundReply {
 public:
  CompoundReply() = default;
  explicit CompoundReply(rpc::RpcReply reply);
  // The decoder points into the record's heap buffer, which a move keeps and a copy would not.
  CompoundReply(const CompoundReply&) = delete;
  CompoundReply& operator=(const CompoundReply&) = delete;
  CompoundReply(CompoundReply&&) = default;
  CompoundReply& operator=(CompoundReply&&) = default;

  nfsstat4 status = NFS4_OK;
  std::string tag;
  uint32_t count = 0;
  rpc::RpcReply rpc;

  // Decodes the next result, which must be for `opnum`; throws CompoundError otherwise.
  template <class Res>
  Res next(uint32_t opnum) {
    if (consumed_ >= count) throw CompoundError("no more results");
    uint32_t op = 0;
    d_.u32(op);
    if (op != opnum) {
      throw CompoundError("result " + std::to_string(consumed_) + " is op " + std::to_string(op) +
                          ", expected " + std::to_string(opnum));
    }
    Res r{};
    xdr::io(d_, r);
    if (!d_.ok()) throw CompoundError("undecodable result for op " + std::to_string(opnum));
    ++consumed_;
    return r;
  }
  // Status of the next result (decodes a status-only body).
  nfsstat4 next_status(uint32_t opnum) { return next<StatusResult>(opnum).status; }
  std::span<const uint8_t> body() const { return rpc.body(); }

 private:
  xdr::Decoder d_;
  uint32_t consumed_ = 0;
};

class NfsClient {
 public:
  // `from`: the local address to connect from (another loopback address, say).
  NfsClient(const std::string& host, uint16_t port, uint32_t uid = 0, uint32_t gid = 0,
            const std::string& from = "");

  rpc::RpcClient& rpc() { return rpc_; }

  // Any COMPOUND, as built (no SEQUENCE added).
  CompoundReply compound(const CompoundBuilder& b);
  uint32_t send(const CompoundBuilder& b);
  CompoundReply wait(uint32_t xid);
  bool null_call();

  // ---- session set-up and use ----
  // EXCHANGE_ID + CREATE_SESSION; throws CompoundError if either fails.
  // `back_slots`: the callback slots offered for the back channel.
  void establish(const std::string& owner = "", uint32_t slots = 16, uint32_t flags = 0,
                 uint32_t back_slots = 1);
  // Fore-channel attributes establish() asks for (maxrequests comes from `slots`).
  ChannelAttrs requested_fore{0, 1u << 20, 1u << 20, 64u << 10, 64, 16, {}};
  // establish() ends with RECLAIM_COMPLETE unless this is cleared.
  bool send_reclaim_complete = true;
  // The state protection establish() asks for in EXCHANGE_ID (SP4_NONE by default), and
  // what the server answered.
  StateProtectArgs state_protect;
  StateProtectResult state_protect_result;
  ServerOwner server_owner;
  std::vector<uint8_t> server_scope;
  void destroy();  // DESTROY_SESSION + DESTROY_CLIENTID
  // Prepends SEQUENCE for `slot` with the slot's next sequence id. The reply's first result
  // is SEQUENCE's, already consumed when its status is OK.
  CompoundReply call(CompoundBuilder b, uint32_t slot = 0, bool cachethis = false);
  // As call(), but the SEQUENCE arguments are given exactly (for replay tests).
  CompoundReply call_with(const SequenceArgs& seq, const CompoundBuilder& b);
  SequenceArgs next_sequence(uint32_t slot = 0, bool cachethis = false);
  CompoundBuilder builder() const { return CompoundBuilder(minor_); }

  uint64_t clientid = 0;
  uint32_t create_seq = 0;
  SessionId sessionid{};
  ChannelAttrs fore;
  std::vector<uint32_t> slot_seq;
  uint32_t minor_ = 1;
  std::string owner_name;

  // ---- file helpers (each one COMPOUND; they throw CompoundError on failure) ----
  Fh root_fh();
  Fh lookup_path(const std::string& path);  // "/export/a/b"
  struct Opened {
    Fh fh;
    Stateid stateid;
  };
  // OPEN (UNCHECKED create if `create`) of dir/name; returns the status for checks.
  nfsstat4 open(const Fh& dir, const std::string& name, uint32_t access, uint32_t deny, bool create,
                Opened& out, const std::string& open_owner = "owner");
  Opened open_or_throw(const Fh& dir, const std::string& name, uint32_t access,
                       uint32_t deny = OPEN4_SHARE_DENY_NONE, bool create = true);
  nfsstat4 close(const Opened& o);
  nfsstat4 write(const Opened& o, uint64_t offset, std::span<const uint8_t> data,
                 stable_how4 how = FILE_SYNC4);
  nfsstat4 read(const Opened& o, uint64_t offset, uint32_t count, std::vector<uint8_t>& out,
                bool* eof = nullptr);
  nfsstat4 mkdir(const Fh& dir, const std::string& name, Fh* out = nullptr);
  nfsstat4 remove(const Fh& dir, const std::string& name);
  // GETATTR of the given attributes; returns the raw fattr.
  nfsstat4 getattr(const Fh& fh, const Bitmap& attrs, Fattr& out);
  uint64_t getattr_u64(const Fh& fh, uint32_t attr);

 private:
  rpc::RpcClient rpc_;
};

}  // namespace dfs::testing
