#pragma once
// TCP record marking (RFC 5531 §11): a record is one or more fragments, each preceded by a
// 4-byte header whose top bit marks the last fragment and whose low 31 bits give its length.
// The framer pulls whole records out of a connection's receive buffer. A record that fits in
// one fragment is handed out as a view into that buffer; a multi-fragment record is assembled
// into the framer's own buffer. Records larger than the configured maximum are refused.

#include <cstddef>
#include <cstdint>
#include <span>

#include "xdr/byte_buffer.h"

namespace dfs::rpc {

inline constexpr uint32_t kLastFragmentBit = 0x80000000u;

class RecordFramer {
 public:
  enum class Result { kNeedMore, kRecord, kTooLarge };

  explicit RecordFramer(size_t max_record_size) : max_record_size_(max_record_size) {}

  void set_max_record_size(size_t n) { max_record_size_ = n; }
  // Fragments of an unfinished multi-fragment record have been taken in.
  bool assembling() const { return assembling_; }
  // Bytes the framer holds for assembling records (the transport charges them to its
  // receive budget: a peer sending a large record in small fragments makes it grow).
  size_t held_bytes() const { return assembly_.capacity(); }

  // Looks for the next complete record at the start of `data`. Always sets `consumed` to the
  // bytes of `data` the caller may drop (fragments already copied count as consumed). On
  // kRecord, `record` holds the record until the next call. On kNeedMore, `wanted` is the
  // number of bytes from the start of `data` that would complete the current fragment
  // (0 if the fragment header itself is incomplete), so the caller can size its next read.
  Result next(std::span<const uint8_t> data, size_t& consumed, std::span<const uint8_t>& record,
              size_t& wanted);

 private:
  size_t max_record_size_;
  xdr::ByteBuffer assembly_;
  bool assembling_ = false;  // fragments of an unfinished record are in assembly_
};

// Writes a record-marking header for a single-fragment record of `length` bytes.
inline void write_record_mark(uint8_t* at, uint32_t length) {
  uint32_t v = kLastFragmentBit | length;
  at[0] = static_cast<uint8_t>(v >> 24);
  at[1] = static_cast<uint8_t>(v >> 16);
  at[2] = static_cast<uint8_t>(v >> 8);
  at[3] = static_cast<uint8_t>(v);
}

}  // namespace dfs::rpc
