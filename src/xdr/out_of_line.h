#pragma once
// Bulk bytes of a record that the transport received out of line: straight into buffers
// chosen once the record's header had arrived, rather than into the connection's receive
// buffer. WRITE data then crosses user space once (the kernel's copy out of the socket)
// instead of twice (kernel into the receive buffer, then the receive buffer into the file).
//
// The record the decoder sees lacks these bytes: it holds everything before them (up to and
// including the opaque's length word) followed directly by everything after them. The
// decoder finds them here when its cursor reaches `record_offset` (see Decoder::set_out_of_line).
// `length` is a multiple of 4, so no XDR padding follows the bytes.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace dfs::xdr {

class OutOfLineBytes {
 public:
  virtual ~OutOfLineBytes() = default;

  // Where in the record the bytes would have been, and how many there are.
  size_t record_offset = 0;
  size_t length = 0;
  // Where the bytes go, in order; the sizes add up to `length`.
  std::vector<std::span<uint8_t>> segments;

  // Copies `n` bytes from `src` to position `at` of the bytes (the part of them that arrived
  // in the receive buffer before the transport knew where they belonged).
  void copy_in(size_t at, const uint8_t* src, size_t n) {
    for (auto seg : segments) {
      if (n == 0) return;
      if (at >= seg.size()) {
        at -= seg.size();
        continue;
      }
      size_t take = std::min(n, seg.size() - at);
      std::memcpy(seg.data() + at, src, take);
      src += take;
      n -= take;
      at = 0;
    }
  }
  // Copies `n` bytes from position `at` of the bytes to `dst`.
  void copy_out(size_t at, uint8_t* dst, size_t n) const {
    for (auto seg : segments) {
      if (n == 0) return;
      if (at >= seg.size()) {
        at -= seg.size();
        continue;
      }
      size_t take = std::min(n, seg.size() - at);
      std::memcpy(dst, seg.data() + at, take);
      dst += take;
      n -= take;
      at = 0;
    }
  }
};

}  // namespace dfs::xdr
