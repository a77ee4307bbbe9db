#pragma once
// XDR encoding (RFC 4506) into a ByteBuffer. Bulk data (READ payloads) is not copied: it is
// spliced in as a reference that the transport gathers with writev, kept alive by an owner
// handle. Positions can be reserved and patched later (counts and statuses that are known
// only after the body is encoded), and the tail can be rolled back to a mark.

#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "xdr/byte_buffer.h"
#include "xdr/decoder.h"

namespace dfs::xdr {

// Data referenced by a reply without copying; `owner` keeps the bytes alive until sent.
struct DataRef {
  std::span<const uint8_t> bytes;
  std::shared_ptr<const void> owner;
};

class Encoder {
 public:
  static constexpr bool kDecoding = false;

  struct Mark {
    size_t size;
    size_t splices;
    size_t spliced_bytes;
  };

  explicit Encoder(ByteBuffer& buf) : buf_(buf) {}

  // Bytes in the encoded message, spliced data included.
  size_t size() const { return buf_.size() + spliced_bytes_; }
  ByteBuffer& buffer() { return buf_; }

  void u32(uint32_t v) {
    uint8_t* p = buf_.extend(4);
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
  }
  void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
  void u64(uint64_t v) {
    u32(static_cast<uint32_t>(v >> 32));
    u32(static_cast<uint32_t>(v));
  }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void boolean(bool v) { u32(v ? 1 : 0); }
  void fixed(const uint8_t* p, size_t n) {
    buf_.append(p, n);
    pad(n);
  }
  void bytes(std::span<const uint8_t> v) {
    u32(static_cast<uint32_t>(v.size()));
    fixed(v.data(), v.size());
  }
  void string(std::string_view s) { bytes({reinterpret_cast<const uint8_t*>(s.data()), s.size()}); }
  // Variable-length opaque whose bytes are referenced, not copied.
  void spliced(DataRef ref) {
    u32(static_cast<uint32_t>(ref.bytes.size()));
    if (!ref.bytes.empty()) {
      spliced_bytes_ += ref.bytes.size();
      splices_.push_back({buf_.size(), std::move(ref)});
      pad(splices_.back().ref.bytes.size());
    }
  }
  // Referenced bytes with no length prefix and no padding (for data gathered from several
  // pieces under one length; finish with pad_to_word).
  void spliced_raw(const DataRef& ref) {
    if (ref.bytes.empty()) return;
    spliced_bytes_ += ref.bytes.size();
    splices_.push_back({buf_.size(), ref});
  }
  void pad_to_word(size_t n) { pad(n); }
  // Reserves a 4-byte slot to patch later.
  size_t reserve_u32() {
    size_t at = buf_.size();
    buf_.extend(4);
    return at;
  }
  void patch_u32(size_t at, uint32_t v) {
    uint8_t* p = buf_.data() + at;
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
  }
  Mark mark() const { return {buf_.size(), splices_.size(), spliced_bytes_}; }
  void rollback(const Mark& m) {
    buf_.resize(m.size);
    splices_.resize(m.splices);
    spliced_bytes_ = m.spliced_bytes;
  }

  // The encoded message as a gather list; valid until the encoder or buffer changes.
  void gather(std::vector<iovec>& out, size_t from = 0) const {
    size_t pos = from;
    for (const auto& s : splices_) {
      if (s.at < from) continue;
      if (s.at > pos) out.push_back({buf_.data() + pos, s.at - pos});
      out.push_back({const_cast<uint8_t*>(s.ref.bytes.data()), s.ref.bytes.size()});
      pos = s.at;
    }
    if (buf_.size() > pos) out.push_back({buf_.data() + pos, buf_.size() - pos});
  }
  bool has_splices() const { return !splices_.empty(); }
  // Owners of spliced data, to keep alive while the gather list is in flight.
  void take_owners(std::vector<std::shared_ptr<const void>>& out) {
    for (auto& s : splices_)
      out.push_back(std::move(s.ref.owner));
  }
  // Copies the whole message (spliced data included) into one contiguous buffer.
  void flatten_into(ByteBuffer& out, size_t from = 0) const {
    std::vector<iovec> iov;
    gather(iov, from);
    for (const auto& v : iov)
      out.append(v.iov_base, v.iov_len);
  }

  template <class... Ts>
  void operator()(const Ts&... values);

 private:
  void pad(size_t n) {
    static constexpr uint8_t kZero[4] = {0, 0, 0, 0};
    size_t p = padded(n) - n;
    if (p) buf_.append(kZero, p);
  }

  struct Splice {
    size_t at;  // offset in buf_ before which the data goes
    DataRef ref;
  };
  ByteBuffer& buf_;
  std::vector<Splice> splices_;
  size_t spliced_bytes_ = 0;
};

}  // namespace dfs::xdr
