#pragma once
// What a retry is compared with to detect a false retry (RFC 5661 §2.10.6.1.3.1, which leaves
// the method to the server). A reply that is cached could be replayed, so its request is
// hashed whole; for an uncached one a retry only learns RETRY_UNCACHED_REP or SEQ_FALSE_RETRY,
// and the head of the arguments with their length tells those apart without hashing a 1 MiB
// WRITE payload on every request.

#include <cstddef>
#include <cstdint>
#include <span>

#include "xdr/out_of_line.h"

namespace dfs::nfs4 {

inline constexpr size_t kUncachedDigestBytes = 512;

// `args`: the COMPOUND arguments as received. When the transport received part of them out of
// line, `out_of_line` holds those bytes and `out_of_line_at` points where in `args` they
// belong; the digest is that of the arguments as the client sent them, so a retry digests the
// same whichever way it was received.
uint64_t request_digest(std::span<const uint8_t> args, bool cachethis,
                        const xdr::OutOfLineBytes* out_of_line = nullptr,
                        const uint8_t* out_of_line_at = nullptr);

}  // namespace dfs::nfs4
