#pragma once
// COMPOUND argument decoding for every operation, apart from running the operations: the
// server decodes an operation's arguments only once the operations before it succeeded (and
// not at all without a filehandle, say), so a fuzz target that only executes COMPOUNDs
// reaches few decoders. Here each operation's arguments are decoded as the operation table
// does (op_table.cpp: typed_op over op_types.h), attribute lists are decoded as the
// handlers do (decode_settable), and the codec is checked for a stable round trip.

#include <cstdint>

#include "xdr/decoder.h"

namespace dfs::fuzz {

enum class ArgsDecode {
  kOk,
  kMalformed,   // the server answers NFS4ERR_BADXDR and stops
  kNotDecoded,  // no typed handler: NOTSUPP or OP_ILLEGAL, the COMPOUND stops
};

// Decodes the arguments of `op` from `d`. A decoded value that, encoded again, does not
// decode to the same encoding fails a FUZZ_CHECK.
ArgsDecode decode_op_args(uint32_t op, xdr::Decoder& d);

// Every operation the server runs through a typed handler has a decoder here (checked when
// a target starts, so a new operation is not silently left out).
bool decoders_cover_op_table();

}  // namespace dfs::fuzz
