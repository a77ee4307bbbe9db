#include "util/stream_copy.h"

#include <gtest/gtest.h>

#include <vector>

namespace dfs::util {
namespace {

TEST(UtilStreamCopy, CopiesEveryByteForAnyAlignmentAndLength) {
  std::vector<uint8_t> src(kStreamCopyMin * 3 + 200);
  for (size_t i = 0; i < src.size(); ++i)
    src[i] = static_cast<uint8_t>(i * 31 + 7);
  for (size_t dst_off : {0, 1, 15, 16, 33}) {
    for (size_t src_off : {0, 3, 64}) {
      for (size_t n : {size_t{0}, size_t{100}, kStreamCopyMin - 1, kStreamCopyMin,
                       kStreamCopyMin + 63, 2 * kStreamCopyMin + 17}) {
        std::vector<uint8_t> dst(n + dst_off + 64, 0xee);
        stream_copy(dst.data() + dst_off, src.data() + src_off, n);
        ASSERT_TRUE(std::equal(src.begin() + static_cast<ptrdiff_t>(src_off),
                               src.begin() + static_cast<ptrdiff_t>(src_off + n),
                               dst.begin() + static_cast<ptrdiff_t>(dst_off)))
            << "dst_off " << dst_off << " src_off " << src_off << " n " << n;
        // Nothing outside the destination range is touched.
        for (size_t i = 0; i < dst_off; ++i)
          ASSERT_EQ(dst[i], 0xee);
        for (size_t i = dst_off + n; i < dst.size(); ++i)
          ASSERT_EQ(dst[i], 0xee);
      }
    }
  }
}

}  // namespace
}  // namespace dfs::util
