// The false-retry digest (RFC 5661 §2.10.6.1.3.1) does not depend on how the transport
// received the request: with WRITE data inline or out of line, the same request digests the
// same, and a different one differently.

#include "nfs4/request_digest.h"

#include <gtest/gtest.h>

#include <vector>

namespace dfs::nfs4 {
namespace {

struct SplitRequest {
  std::vector<uint8_t> whole;   // as the client sent it
  std::vector<uint8_t> record;  // without the bulk bytes
  std::vector<std::vector<uint8_t>> storage;
  xdr::OutOfLineBytes bulk;
};

// `head` bytes, then `bulk` bytes (received out of line), then `tail` bytes.
void make(SplitRequest& r, size_t head, size_t bulk, size_t tail, uint8_t seed) {
  r.whole.resize(head + bulk + tail);
  for (size_t i = 0; i < r.whole.size(); ++i)
    r.whole[i] = static_cast<uint8_t>(seed + i * 31 + i / 251);
  r.record.assign(r.whole.begin(), r.whole.begin() + static_cast<long>(head));
  r.record.insert(r.record.end(), r.whole.end() - static_cast<long>(tail), r.whole.end());
  // Two segments of unequal size.
  size_t cut = bulk / 3;
  r.storage = {
      {r.whole.begin() + static_cast<long>(head), r.whole.begin() + static_cast<long>(head + cut)},
      {r.whole.begin() + static_cast<long>(head + cut),
       r.whole.begin() + static_cast<long>(head + bulk)}};
  r.bulk.record_offset = head;
  r.bulk.length = bulk;
  for (auto& s : r.storage)
    r.bulk.segments.emplace_back(s.data(), s.size());
}

uint64_t placed_digest(const SplitRequest& r, bool cachethis) {
  return request_digest(r.record, cachethis, &r.bulk, r.record.data() + r.bulk.record_offset);
}

TEST(Nfs4RequestDigest, SameWhetherBulkBytesCameInlineOrOutOfLine) {
  for (bool cachethis : {false, true}) {
    for (size_t head : {12u, 300u, 600u}) {
      SplitRequest r;
      make(r, head, 65536, 40, 1);
      EXPECT_EQ(placed_digest(r, cachethis), request_digest(r.whole, cachethis))
          << "head " << head << " cachethis " << cachethis;
    }
  }
}

TEST(Nfs4RequestDigest, DifferentRequestsDigestDifferently) {
  SplitRequest a, b;
  make(a, 300, 65536, 40, 1);
  make(b, 300, 65536, 40, 2);
  EXPECT_NE(placed_digest(a, false), placed_digest(b, false));
  EXPECT_NE(placed_digest(a, true), placed_digest(b, true));
  // Uncached: only the first 512 bytes and the length count, so data further in does not.
  SplitRequest c;
  make(c, 300, 65536, 40, 1);
  c.storage[1][1000] ^= 0xff;
  EXPECT_EQ(placed_digest(a, false), placed_digest(c, false));
  EXPECT_NE(placed_digest(a, true), placed_digest(c, true));
  // The length counts.
  SplitRequest d;
  make(d, 300, 65540, 40, 1);
  EXPECT_NE(placed_digest(a, false), placed_digest(d, false));
}

}  // namespace
}  // namespace dfs::nfs4
