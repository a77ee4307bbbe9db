#pragma once
// One descriptor per operation (DESIGN.md): its handler and the facts the COMPOUND loop needs
// to check before running it, so the loop itself has no per-operation special cases.

#include <cstdint>

#include "nfs4/compound.h"
#include "xdr/xdr.h"

namespace dfs::nfs4 {

enum OpFlags : uint32_t {
  kNeedsFh = 1u << 0,          // NFS4ERR_NOFILEHANDLE without a current filehandle
  kSessionExempt = 1u << 1,    // may be the first op of a COMPOUND without SEQUENCE (§2.6.3.1.1)
  kSoleOpWhenFirst = 1u << 2,  // when first without SEQUENCE, must be the only op
  kModifies = 1u << 3,         // changes state (never retried blindly)
};

// Decodes the arguments, runs the operation and encodes its result (status included).
using OpRunner = nfsstat4 (*)(Compound&, xdr::Decoder&, xdr::Encoder&);

struct OpDescriptor {
  const char* name = nullptr;
  OpRunner run = nullptr;
  uint32_t flags = 0;
  uint32_t min_minor = 1;    // first minor version that has the op
  uint32_t reply_bound = 0;  // bytes of the smallest successful result (pre-checked)
};

// The descriptor for `op` in `minorversion`, or nullptr for an op that does not exist there
// (the COMPOUND answers OP_ILLEGAL).
const OpDescriptor* find_op(uint32_t op, uint32_t minorversion);

// Adapts a typed handler `nfsstat4 Fn(Compound&, Args&, Res&)` to an OpRunner. Malformed
// arguments yield NFS4ERR_BADXDR.
template <class Args, class Res, nfsstat4 (*Fn)(Compound&, Args&, Res&)>
nfsstat4 typed_op(Compound& c, xdr::Decoder& d, xdr::Encoder& e) {
  Args args{};
  xdr::io(d, args);
  Res res{};
  res.status = d.ok() ? Fn(c, args, res) : NFS4ERR_BADXDR;
  xdr::io(e, res);
  return res.status;
}

// An operation this server does not support: its arguments are not even decoded, since the
// COMPOUND stops at the first failure.
nfsstat4 op_notsupp(Compound& c, xdr::Decoder& d, xdr::Encoder& e);

}  // namespace dfs::nfs4
