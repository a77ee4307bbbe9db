// The TCP record marking framer (rpc/record_framer.h) against a reference reading of RFC 5531
// §11: a byte stream from a peer, cut into reads the way the reactor receives it, must give
// the same records (and the same refusal of an oversized one) as the whole stream read at
// once, however it is cut.
//
// Input: byte 0 picks the record size limit, byte 1 how the stream is cut into reads; the
// rest is the stream.

#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "fuzz_check.h"
#include "rpc/record_framer.h"

namespace {

using Records = std::vector<std::vector<uint8_t>>;

struct Framed {
  Records records;
  bool too_large = false;
};

uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// RFC 5531 §11 read straight from the specification: fragments are appended until one has
// the last-fragment bit; a record that would exceed the limit is refused as soon as the
// header that makes it too large is seen.
Framed reference(std::span<const uint8_t> s, size_t max) {
  Framed out;
  std::vector<uint8_t> assembly;
  size_t pos = 0;
  while (s.size() - pos >= 4) {
    const uint32_t header = be32(s.data() + pos);
    const size_t length = header & ~dfs::rpc::kLastFragmentBit;
    if (assembly.size() + length > max) {
      out.too_large = true;
      break;
    }
    if (s.size() - pos - 4 < length) break;
    assembly.insert(assembly.end(), s.begin() + static_cast<long>(pos + 4),
                    s.begin() + static_cast<long>(pos + 4 + length));
    pos += 4 + length;
    if (header & dfs::rpc::kLastFragmentBit) {
      out.records.push_back(std::move(assembly));
      assembly.clear();
    }
  }
  return out;
}

// The stream as the reactor sees it: reads appended to a receive buffer, records taken from
// its front, consumed bytes dropped.
Framed chunked(std::span<const uint8_t> s, size_t max, uint8_t cut) {
  static constexpr size_t kMaxRead[] = {1, 3, 7, 64, 4096};
  const size_t max_read = kMaxRead[cut % 5];
  std::minstd_rand rng(cut);
  dfs::rpc::RecordFramer framer(max);
  Framed out;
  std::vector<uint8_t> buf;
  size_t start = 0, fed = 0;
  while (fed < s.size()) {
    const size_t n = std::min(s.size() - fed, 1 + static_cast<size_t>(rng()) % max_read);
    buf.insert(buf.end(), s.begin() + static_cast<long>(fed),
               s.begin() + static_cast<long>(fed + n));
    fed += n;
    for (;;) {
      const std::span<const uint8_t> data(buf.data() + start, buf.size() - start);
      size_t consumed = 0, wanted = 0;
      std::span<const uint8_t> record;
      const auto res = framer.next(data, consumed, record, wanted);
      if (res == dfs::rpc::RecordFramer::Result::kTooLarge) {
        out.too_large = true;
        return out;
      }
      FUZZ_CHECK(consumed <= data.size());
      // The assembly buffer grows by doubling from 256 bytes: never past twice the limit.
      FUZZ_CHECK(framer.held_bytes() <= std::max<size_t>(256, 2 * max));
      start += consumed;
      if (res == dfs::rpc::RecordFramer::Result::kNeedMore) {
        // What would complete the fragment is more than what there is.
        FUZZ_CHECK(wanted == 0 || wanted > data.size());
        break;
      }
      FUZZ_CHECK(record.size() <= max);
      out.records.emplace_back(record.begin(), record.end());
    }
    if (start == buf.size()) {
      buf.clear();
      start = 0;
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static constexpr size_t kLimits[] = {0, 4, 40, 256, 1000, 4096, 65536, 4u << 20};
  const size_t max = kLimits[data[0] % 8];
  const std::span<const uint8_t> stream(data + 2, size - 2);
  const Framed whole = reference(stream, max);
  const Framed cut = chunked(stream, max, data[1]);
  FUZZ_CHECK(cut.too_large == whole.too_large);
  FUZZ_CHECK(cut.records == whole.records);
  return 0;
}
