#pragma once
// One declaration per wire type. A struct describes its fields once, in a static template
//
//   template <class Ar, class Self> static void xdr(Ar& ar, Self& s) { ar(s.a, s.b); }
//
// which serves both directions: with a Decoder and a mutable Self it reads, with an Encoder
// and a const Self it writes. Discriminated unions are written the same way (read or write
// the discriminant, then switch on it); `Ar::kDecoding` is available for the rare arm that
// must act differently. The overloads below cover primitives and containers.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "xdr/decoder.h"
#include "xdr/encoder.h"

namespace dfs::xdr {

// Primitives.
inline void io(Decoder& d, uint32_t& v) {
  d.u32(v);
}
inline void io(Encoder& e, const uint32_t& v) {
  e.u32(v);
}
inline void io(Decoder& d, int32_t& v) {
  d.i32(v);
}
inline void io(Encoder& e, const int32_t& v) {
  e.i32(v);
}
inline void io(Decoder& d, uint64_t& v) {
  d.u64(v);
}
inline void io(Encoder& e, const uint64_t& v) {
  e.u64(v);
}
inline void io(Decoder& d, int64_t& v) {
  d.i64(v);
}
inline void io(Encoder& e, const int64_t& v) {
  e.i64(v);
}
inline void io(Decoder& d, bool& v) {
  d.boolean(v);
}
inline void io(Encoder& e, const bool& v) {
  e.boolean(v);
}

// Enums travel as 32-bit values; validating the value is the consumer's job (a switch with a
// failing default in a union, or a range check in the handler).
template <class E>
requires std::is_enum_v<E>
void io(Decoder& d, E& v) {
  uint32_t u = 0;
  d.u32(u);
  v = static_cast<E>(u);
}
template <class E>
requires std::is_enum_v<E>
void io(Encoder& e, const E& v) {
  e.u32(static_cast<uint32_t>(v));
}

// Fixed-length opaque.
template <size_t N>
void io(Decoder& d, std::array<uint8_t, N>& v) {
  d.fixed(v.data(), N);
}
template <size_t N>
void io(Encoder& e, const std::array<uint8_t, N>& v) {
  e.fixed(v.data(), N);
}

// Variable-length opaque and strings (the frame bounds their size).
inline void io(Decoder& d, std::vector<uint8_t>& v) {
  d.bytes(v);
}
inline void io(Encoder& e, const std::vector<uint8_t>& v) {
  e.bytes(v);
}
inline void io(Decoder& d, std::string& v) {
  d.string(v);
}
inline void io(Encoder& e, const std::string& v) {
  e.string(v);
}
inline void io(Decoder& d, ByteBuffer& v) {
  std::span<const uint8_t> view;
  if (d.view(view)) {
    v.clear();
    v.append(view.data(), view.size());
  }
}
inline void io(Encoder& e, const ByteBuffer& v) {
  e.bytes(v.span());
}
inline void io(Decoder& d, OpaqueView& v) {
  d.view(v.bytes);
}
inline void io(Encoder& e, const OpaqueView& v) {
  e.bytes(v.bytes);
}

// Variable-length opaque or string with a declared bound (opaque<N>, string<N>): a longer
// value is malformed input.
inline void bounded(Decoder& d, std::vector<uint8_t>& v, uint32_t max) {
  d.bytes(v, max);
}
inline void bounded(Encoder& e, const std::vector<uint8_t>& v, uint32_t) {
  e.bytes(v);
}
inline void bounded(Decoder& d, std::string& v, uint32_t max) {
  d.string(v, max);
}
inline void bounded(Encoder& e, const std::string& v, uint32_t) {
  e.string(v);
}

// Bulk data: decoded as a view into the record, encoded by reference (spliced, no copy).
inline void io(Decoder& d, DataRef& v) {
  d.view(v.bytes);
}
inline void io(Encoder& e, const DataRef& v) {
  e.spliced(v);
}

// WRITE data: a view into the record, or bytes the transport received out of line.
struct InboundData {
  std::span<const uint8_t> bytes;  // empty when out_of_line is set
  std::shared_ptr<OutOfLineBytes> out_of_line;
  size_t size() const { return out_of_line ? out_of_line->length : bytes.size(); }
};
inline void io(Decoder& d, InboundData& v) {
  uint32_t n = 0;
  if (!d.u32(n)) return;
  if ((v.out_of_line = d.take_out_of_line(n))) return;
  d.body(v.bytes, n);
}
inline void io(Encoder& e, const InboundData& v) {
  if (!v.out_of_line) {
    e.spliced(DataRef{v.bytes, nullptr});
    return;
  }
  e.u32(static_cast<uint32_t>(v.out_of_line->length));
  for (auto seg : v.out_of_line->segments)
    e.spliced_raw(DataRef{seg, v.out_of_line});
}

// Structs and unions that describe themselves.
template <class T>
concept Described = std::is_class_v<T> && requires(Decoder& d, T& t) {
  T::xdr(d, t);
};

template <Described T>
void io(Decoder& d, T& v) {
  T::xdr(d, v);
}
template <Described T>
void io(Encoder& e, const T& v) {
  T::xdr(e, v);
}

// Variable-length arrays (T<>), and with a declared bound (T<N>): a longer one is malformed
// input, refused before anything is allocated.
template <class T>
void bounded(Decoder& d, std::vector<T>& v, uint32_t max) {
  uint32_t n = 0;
  if (!d.count(n, 4, max)) return;
  v.clear();
  v.resize(n);
  for (auto& item : v) {
    io(d, item);
    if (!d.ok()) return;
  }
}
template <class T>
void io(Decoder& d, std::vector<T>& v) {
  bounded(d, v, UINT32_MAX);
}
template <class T>
void io(Encoder& e, const std::vector<T>& v) {
  e.u32(static_cast<uint32_t>(v.size()));
  for (const auto& item : v)
    io(e, item);
}
template <class T>
void bounded(Encoder& e, const std::vector<T>& v, uint32_t) {
  io(e, v);
}

// Optional data (*T): a boolean then the value.
template <class T>
void io(Decoder& d, std::optional<T>& v) {
  bool present = false;
  if (!d.boolean(present)) return;
  if (present) {
    v.emplace();
    io(d, *v);
  } else {
    v.reset();
  }
}
template <class T>
void io(Encoder& e, const std::optional<T>& v) {
  e.boolean(v.has_value());
  if (v) io(e, *v);
}

template <class... Ts>
bool Decoder::operator()(Ts&... values) {
  (io(*this, values), ...);
  return ok();
}
template <class... Ts>
void Encoder::operator()(const Ts&... values) {
  (io(*this, values), ...);
}

// Decodes a whole value from bytes; false if malformed or if bytes are left over.
template <class T>
bool decode_exact(std::span<const uint8_t> bytes, T& out) {
  Decoder d(bytes);
  io(d, out);
  return d.ok() && d.remaining() == 0;
}
template <class T>
ByteBuffer encode_to_buffer(const T& v) {
  ByteBuffer buf;
  Encoder e(buf);
  io(e, v);
  return buf;
}

}  // namespace dfs::xdr
