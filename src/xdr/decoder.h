#pragma once
// XDR decoding (RFC 4506) over a byte span. Every read is bounds-checked; the first failure
// latches the decoder into a failed state in which every further read is a no-op, so a caller
// decodes a whole structure and checks ok() once. Counts and lengths are checked against the
// bytes that remain before anything is allocated, so a hostile length cannot cause a large
// allocation.

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "xdr/out_of_line.h"

namespace dfs::xdr {

// A variable-length opaque decoded as a view into the decoder's buffer (no copy). Used for
// WRITE data and other bulk payloads; valid as long as the underlying buffer is.
struct OpaqueView {
  std::span<const uint8_t> bytes;
};

inline constexpr size_t padded(size_t n) {
  return (n + 3) & ~size_t{3};
}

class Decoder {
 public:
  static constexpr bool kDecoding = true;

  Decoder() = default;
  explicit Decoder(std::span<const uint8_t> data) : p_(data.data()), end_(p_ + data.size()) {}

  bool ok() const { return ok_; }
  void fail() {
    ok_ = false;
    p_ = end_;
  }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const uint8_t* cursor() const { return p_; }
  std::span<const uint8_t> rest() const { return {p_, remaining()}; }

  bool u32(uint32_t& v) {
    if (!need(4)) return false;
    v = (uint32_t{p_[0]} << 24) | (uint32_t{p_[1]} << 16) | (uint32_t{p_[2]} << 8) | p_[3];
    p_ += 4;
    return true;
  }
  bool i32(int32_t& v) {
    uint32_t u = 0;
    if (!u32(u)) return false;
    v = static_cast<int32_t>(u);
    return true;
  }
  bool u64(uint64_t& v) {
    uint32_t hi = 0, lo = 0;
    if (!u32(hi) || !u32(lo)) return false;
    v = (uint64_t{hi} << 32) | lo;
    return true;
  }
  bool i64(int64_t& v) {
    uint64_t u = 0;
    if (!u64(u)) return false;
    v = static_cast<int64_t>(u);
    return true;
  }
  // XDR booleans are 0 or 1; anything else is malformed.
  bool boolean(bool& v) {
    uint32_t u = 0;
    if (!u32(u)) return false;
    if (u > 1) {
      fail();
      return false;
    }
    v = u == 1;
    return true;
  }
  bool fixed(uint8_t* out, size_t n) {
    if (!need(padded(n))) return false;
    std::memcpy(out, p_, n);
    p_ += padded(n);
    return true;
  }
  // Variable-length opaque as a view; `max` is the declared bound (opaque<max>).
  bool view(std::span<const uint8_t>& out, uint32_t max = UINT32_MAX) {
    uint32_t n = 0;
    if (!u32(n)) return false;
    if (n > max || !need(padded(n))) {
      fail();
      return false;
    }
    out = {p_, n};
    p_ += padded(n);
    return true;
  }
  bool bytes(std::vector<uint8_t>& out, uint32_t max = UINT32_MAX) {
    std::span<const uint8_t> v;
    if (!view(v, max)) return false;
    out.assign(v.begin(), v.end());
    return true;
  }
  bool string(std::string& out, uint32_t max = UINT32_MAX) {
    std::span<const uint8_t> v;
    if (!view(v, max)) return false;
    out.assign(reinterpret_cast<const char*>(v.data()), v.size());
    return true;
  }
  // Reads an array count and checks that at least `min_element_size` bytes per element remain,
  // which bounds any allocation by the frame size. A rejected count reads as 0, so a caller
  // that sizes a container before checking ok() allocates nothing.
  bool count(uint32_t& n, size_t min_element_size = 4, uint32_t max = UINT32_MAX) {
    if (!u32(n)) return false;
    if (n > max || (min_element_size && n > remaining() / min_element_size)) {
      n = 0;
      fail();
      return false;
    }
    return true;
  }

  // The record this decoder reads had bulk bytes received out of line (out_of_line.h); the
  // first opaque whose length word ends at their position takes them.
  void set_out_of_line(std::shared_ptr<OutOfLineBytes> bytes, const uint8_t* at) {
    out_of_line_ = std::move(bytes);
    out_of_line_at_ = at;
  }
  // After an opaque's length word `n`: the out-of-line bytes if they belong here (the cursor
  // is at their position and the lengths agree), else null and the bytes follow in the record.
  std::shared_ptr<OutOfLineBytes> take_out_of_line(uint32_t n) {
    if (!out_of_line_ || p_ != out_of_line_at_ || n != out_of_line_->length) return nullptr;
    return std::move(out_of_line_);
  }
  // The bytes of an opaque whose length word `n` was just read, as a view.
  bool body(std::span<const uint8_t>& out, uint32_t n) {
    if (!need(padded(n))) return false;
    out = {p_, n};
    p_ += padded(n);
    return true;
  }

  template <class... Ts>
  bool operator()(Ts&... values);

 private:
  bool need(size_t n) {
    if (!ok_ || remaining() < n) {
      fail();
      return false;
    }
    return true;
  }

  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  bool ok_ = true;
  std::shared_ptr<OutOfLineBytes> out_of_line_;
  const uint8_t* out_of_line_at_ = nullptr;
};

}  // namespace dfs::xdr
