#pragma once
// NFSv4.1 wire types shared by many operations (RFC 5662). Each type declares its fields
// once, in a static xdr() used for both encoding and decoding (see xdr/xdr.h).

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "nfs4/constants.h"
#include "xdr/xdr.h"

namespace dfs::nfs4 {

using Verifier = std::array<uint8_t, kVerifierSize>;
using SessionId = std::array<uint8_t, kSessionIdSize>;

// nfs_fh4: opaque<NFS4_FHSIZE>, kept inline so handles cost no allocation.
struct Fh {
  uint32_t len = 0;
  std::array<uint8_t, kFhSize> data{};

  std::span<const uint8_t> bytes() const { return {data.data(), len}; }
  friend bool operator==(const Fh& a, const Fh& b) {
    return a.len == b.len && std::memcmp(a.data.data(), b.data.data(), a.len) == 0;
  }
  static void xdr(xdr::Decoder& d, Fh& s) {
    std::span<const uint8_t> v;
    if (!d.view(v, kFhSize)) return;
    s.len = static_cast<uint32_t>(v.size());
    std::memcpy(s.data.data(), v.data(), v.size());
  }
  static void xdr(xdr::Encoder& e, const Fh& s) { e.bytes(s.bytes()); }
};

struct Stateid {
  uint32_t seqid = 0;
  std::array<uint8_t, kOtherSize> other{};

  friend bool operator==(const Stateid&, const Stateid&) = default;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.seqid, s.other);
  }
};

// bitmap4 (§3.3.1). Attribute numbers we know fit in kWords words; set bits beyond them are
// remembered so SETATTR can refuse them (ATTRNOTSUPP) and GETATTR can ignore them.
class Bitmap {
 public:
  static constexpr uint32_t kWords = 4;

  Bitmap() = default;
  Bitmap(std::initializer_list<uint32_t> bits) {
    for (uint32_t b : bits)
      set(b);
  }
  bool test(uint32_t bit) const { return bit / 32 < kWords && (w_[bit / 32] >> (bit % 32)) & 1u; }
  void set(uint32_t bit) {
    if (bit / 32 < kWords) w_[bit / 32] |= 1u << (bit % 32);
  }
  void clear(uint32_t bit) {
    if (bit / 32 < kWords) w_[bit / 32] &= ~(1u << (bit % 32));
  }
  bool empty() const {
    return !has_unknown_ && w_[0] == 0 && w_[1] == 0 && w_[2] == 0 && w_[3] == 0;
  }
  bool has_unknown() const { return has_unknown_; }
  uint32_t word(uint32_t i) const { return i < kWords ? w_[i] : 0; }
  Bitmap operator&(const Bitmap& o) const {
    Bitmap r;
    for (uint32_t i = 0; i < kWords; ++i)
      r.w_[i] = w_[i] & o.w_[i];
    return r;
  }
  Bitmap operator-(const Bitmap& o) const {
    Bitmap r;
    for (uint32_t i = 0; i < kWords; ++i)
      r.w_[i] = w_[i] & ~o.w_[i];
    r.has_unknown_ = has_unknown_;
    return r;
  }
  // Calls f(bit) for each set bit in ascending order (the order attributes are encoded in).
  template <class F>
  void for_each(F&& f) const {
    for (uint32_t i = 0; i < kWords; ++i) {
      uint32_t w = w_[i];
      while (w) {
        uint32_t b = static_cast<uint32_t>(__builtin_ctz(w));
        f(i * 32 + b);
        w &= w - 1;
      }
    }
  }
  friend bool operator==(const Bitmap& a, const Bitmap& b) {
    return a.w_ == b.w_ && a.has_unknown_ == b.has_unknown_;
  }

  static void xdr(xdr::Decoder& d, Bitmap& s) {
    uint32_t n = 0;
    if (!d.count(n)) return;
    s = Bitmap{};
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t v = 0;
      d.u32(v);
      if (i < kWords) {
        s.w_[i] = v;
      } else if (v) {
        s.has_unknown_ = true;
      }
    }
  }
  static void xdr(xdr::Encoder& e, const Bitmap& s) {
    uint32_t n = kWords;
    while (n > 0 && s.w_[n - 1] == 0)
      --n;
    e.u32(n);
    for (uint32_t i = 0; i < n; ++i)
      e.u32(s.w_[i]);
  }

 private:
  std::array<uint32_t, kWords> w_{};
  bool has_unknown_ = false;
};

// fattr4: a bitmap and the XDR of the attributes it names, in bit order.
struct Fattr {
  Bitmap mask;
  xdr::ByteBuffer vals;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.mask, s.vals);
  }
};

struct NfsTime {
  int64_t seconds = 0;
  uint32_t nseconds = 0;
  friend bool operator==(const NfsTime&, const NfsTime&) = default;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.seconds, s.nseconds);
  }
};

struct ChangeInfo {
  bool atomic = false;
  uint64_t before = 0;
  uint64_t after = 0;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.atomic, s.before, s.after);
  }
};

struct SpecData {
  uint32_t major = 0;
  uint32_t minor = 0;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.major, s.minor);
  }
};

struct Fsid {
  uint64_t major = 0;
  uint64_t minor = 0;
  friend bool operator==(const Fsid&, const Fsid&) = default;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.major, s.minor);
  }
};

// state_owner4 (open_owner4, lock_owner4).
struct StateOwner {
  uint64_t clientid = 0;
  std::vector<uint8_t> owner;
  friend bool operator==(const StateOwner&, const StateOwner&) = default;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.clientid);
    xdr::bounded(ar, s.owner, kOpaqueLimit);
  }
};

struct ClientOwner {
  Verifier verifier{};
  std::vector<uint8_t> ownerid;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.verifier);
    xdr::bounded(ar, s.ownerid, kOpaqueLimit);
  }
};

struct ChannelAttrs {
  uint32_t headerpadsize = 0;
  uint32_t maxrequestsize = 0;
  uint32_t maxresponsesize = 0;
  uint32_t maxresponsesize_cached = 0;
  uint32_t maxoperations = 0;
  uint32_t maxrequests = 0;
  std::vector<uint32_t> rdma_ird;  // <1>
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.headerpadsize, s.maxrequestsize, s.maxresponsesize, s.maxresponsesize_cached,
       s.maxoperations, s.maxrequests, s.rdma_ird);
  }
};

struct AuthSysParms {
  uint32_t stamp = 0;
  std::string machinename;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> gids;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.stamp);
    xdr::bounded(ar, s.machinename, 255);
    ar(s.uid, s.gid);
    xdr::bounded(ar, s.gids, 16);  // RFC 5531 appendix A: unsigned int gids<16>
  }
};

struct GssCbHandles {
  uint32_t service = RPC_GSS_SVC_NONE;
  std::vector<uint8_t> handle_from_server;
  std::vector<uint8_t> handle_from_client;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.service, s.handle_from_server, s.handle_from_client);
  }
};

// callback_sec_parms4 (§18.36): how the server authenticates its callbacks.
struct CallbackSecParms {
  uint32_t flavor = 0;  // AUTH_NONE, AUTH_SYS or RPCSEC_GSS
  AuthSysParms sys;
  GssCbHandles gss;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.flavor);
    switch (s.flavor) {
      case 0:
        break;
      case 1:
        ar(s.sys);
        break;
      case 6:
        ar(s.gss);
        break;
      default:
        if constexpr (Ar::kDecoding) ar.fail();
    }
  }
};

struct StateProtectOps {
  Bitmap must_enforce;
  Bitmap must_allow;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.must_enforce, s.must_allow);
  }
};

struct SsvSpParms {
  StateProtectOps ops;
  std::vector<std::vector<uint8_t>> hash_algs;
  std::vector<std::vector<uint8_t>> encr_algs;
  uint32_t window = 0;
  uint32_t num_gss_handles = 0;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.ops, s.hash_algs, s.encr_algs, s.window, s.num_gss_handles);
  }
};

struct StateProtectArgs {
  state_protect_how4 how = SP4_NONE;
  StateProtectOps mach_ops;
  SsvSpParms ssv;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.how);
    switch (s.how) {
      case SP4_NONE:
        break;
      case SP4_MACH_CRED:
        ar(s.mach_ops);
        break;
      case SP4_SSV:
        ar(s.ssv);
        break;
      default:
        if constexpr (Ar::kDecoding) ar.fail();
    }
  }
};

struct SsvProtInfo {
  StateProtectOps ops;
  uint32_t hash_alg = 0;
  uint32_t encr_alg = 0;
  uint32_t ssv_len = 0;
  uint32_t window = 0;
  std::vector<std::vector<uint8_t>> handles;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.ops, s.hash_alg, s.encr_alg, s.ssv_len, s.window, s.handles);
  }
};

struct StateProtectResult {
  state_protect_how4 how = SP4_NONE;
  StateProtectOps mach_ops;
  SsvProtInfo ssv;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.how);
    switch (s.how) {
      case SP4_NONE:
        break;
      case SP4_MACH_CRED:
        ar(s.mach_ops);
        break;
      case SP4_SSV:
        ar(s.ssv);
        break;
      default:
        if constexpr (Ar::kDecoding) ar.fail();
    }
  }
};

struct ImplId {
  std::string domain;
  std::string name;
  NfsTime date;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.domain, s.name, s.date);
  }
};

struct ServerOwner {
  uint64_t minor_id = 0;
  std::vector<uint8_t> major_id;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.minor_id);
    xdr::bounded(ar, s.major_id, kOpaqueLimit);
  }
};

// nfsace4 (only carried inside delegations here).
struct NfsAce {
  uint32_t type = 0;
  uint32_t flag = 0;
  uint32_t access_mask = 0;
  std::string who;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.type, s.flag, s.access_mask, s.who);
  }
};

// The result body of an operation that returns data only on success.
template <class Ok>
struct OkResult {
  nfsstat4 status = NFS4_OK;
  Ok ok{};
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.status);
    if (s.status == NFS4_OK) ar(s.ok);
  }
};

// The result of an operation that returns only a status.
struct StatusResult {
  nfsstat4 status = NFS4_OK;
  template <class Ar, class Self>
  static void xdr(Ar& ar, Self& s) {
    ar(s.status);
  }
};

struct Void {
  template <class Ar, class Self>
  static void xdr(Ar&, Self&) {}
};

}  // namespace dfs::nfs4
