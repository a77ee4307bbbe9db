#pragma once
// A copy for large destinations that will not be read again soon: non-temporal stores write
// around the cache, so the destination's lines are neither read in first (the "read for
// ownership" of an ordinary store) nor left evicting data that is still in use. Used for
// WRITE payloads landing in the memory store, where the destination is cold.

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace dfs::util {

// Below this an ordinary memcpy is as fast and keeps the bytes cached.
inline constexpr size_t kStreamCopyMin = 64 * 1024;

inline void stream_copy(uint8_t* dst, const uint8_t* src, size_t n) {
#if defined(__SSE2__)
  if (n < kStreamCopyMin) {
    std::memcpy(dst, src, n);
    return;
  }
  // Head up to 16-byte alignment of the destination, then 64 bytes per round, then the tail.
  size_t head = (16 - (reinterpret_cast<uintptr_t>(dst) & 15)) & 15;
  std::memcpy(dst, src, head);
  dst += head;
  src += head;
  n -= head;
  while (n >= 64) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 16));
    __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 32));
    __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 48));
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst), a);
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + 16), b);
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + 32), c);
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + 48), d);
    dst += 64;
    src += 64;
    n -= 64;
  }
  std::memcpy(dst, src, n);
  // Non-temporal stores are weakly ordered: fence so they are visible before whatever the
  // caller publishes next (the unlock of the file's mutex).
  _mm_sfence();
#else
  std::memcpy(dst, src, n);
#endif
}

}  // namespace dfs::util
