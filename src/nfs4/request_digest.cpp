#include "nfs4/request_digest.h"

#include <algorithm>

#include "util/hash.h"
#include "xdr/byte_buffer.h"

namespace dfs::nfs4 {
namespace {

// `args` holds at least the bytes digested; `size` is the length of the whole arguments.
uint64_t digest_of(std::span<const uint8_t> args, size_t size, bool cachethis) {
  if (cachethis || size <= kUncachedDigestBytes) return util::hash_bytes(args);
  return util::hash_bytes(args.first(kUncachedDigestBytes)) ^ (size * 0x9E3779B97F4A7C15ull);
}

}  // namespace

uint64_t request_digest(std::span<const uint8_t> args, bool cachethis,
                        const xdr::OutOfLineBytes* out_of_line, const uint8_t* out_of_line_at) {
  if (!out_of_line) return digest_of(args, args.size(), cachethis);
  // Put back together as many bytes as the digest reads.
  const size_t at = static_cast<size_t>(out_of_line_at - args.data());
  const size_t size = args.size() + out_of_line->length;
  const size_t want = cachethis ? size : std::min(size, kUncachedDigestBytes);
  xdr::ByteBuffer whole(want);
  const size_t before = std::min(at, want);
  whole.append(args.data(), before);
  const size_t inside = std::min(out_of_line->length, want - before);
  out_of_line->copy_out(0, whole.extend(inside), inside);
  whole.append(args.data() + at, want - before - inside);
  return digest_of(whole.span(), size, cachethis);
}

}  // namespace dfs::nfs4
