// ONC RPC (RFC 5531): record marking (§11), call and reply headers (§9), and the AUTH_NONE /
// AUTH_SYS credential checks (§8.2, appendix A).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rpc/auth.h"
#include "rpc/message.h"
#include "rpc/record_framer.h"
#include "xdr/xdr.h"

namespace dfs::rpc {
namespace {

using Result = RecordFramer::Result;

// One record-marking fragment: header then body.
std::vector<uint8_t> frag(bool last, const std::vector<uint8_t>& body) {
  std::vector<uint8_t> out(4);
  uint32_t h = static_cast<uint32_t>(body.size()) | (last ? kLastFragmentBit : 0u);
  out[0] = static_cast<uint8_t>(h >> 24);
  out[1] = static_cast<uint8_t>(h >> 16);
  out[2] = static_cast<uint8_t>(h >> 8);
  out[3] = static_cast<uint8_t>(h);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

std::vector<uint8_t> cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::vector<uint8_t> vec(std::span<const uint8_t> s) {
  return {s.begin(), s.end()};
}
std::vector<uint8_t> vec(const xdr::ByteBuffer& b) {
  return {b.data(), b.data() + b.size()};
}

bool points_into(std::span<const uint8_t> inner, const std::vector<uint8_t>& outer) {
  return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

// ---- record marking ------------------------------------------------------------------------

TEST(RpcRecordFramer, SingleFragmentIsAViewIntoTheInput) {
  RecordFramer f(1024);
  auto data = frag(true, {1, 2, 3, 4, 5, 6, 7, 8});
  size_t consumed = 0, wanted = 99;
  std::span<const uint8_t> record;
  ASSERT_EQ(f.next(data, consumed, record, wanted), Result::kRecord);
  EXPECT_EQ(consumed, data.size());
  EXPECT_EQ(record.data(), data.data() + 4);  // no copy
  EXPECT_EQ(vec(record), (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(RpcRecordFramer, MultipleFragmentsAreAssembled) {
  RecordFramer f(1024);
  auto data = cat({frag(false, {1, 2, 3}), frag(false, {4}), frag(true, {5, 6})});
  size_t consumed = 0, wanted = 0;
  std::span<const uint8_t> record;
  ASSERT_EQ(f.next(data, consumed, record, wanted), Result::kRecord);
  EXPECT_EQ(consumed, data.size());
  EXPECT_EQ(vec(record), (std::vector<uint8_t>{1, 2, 3, 4, 5, 6}));
}

TEST(RpcRecordFramer, FragmentsSplitAcrossReads) {
  RecordFramer f(1024);
  auto first = frag(false, {1, 2, 3});
  size_t consumed = 0, wanted = 0;
  std::span<const uint8_t> record;
  ASSERT_EQ(f.next(first, consumed, record, wanted), Result::kNeedMore);
  EXPECT_EQ(consumed, first.size());  // the copied fragment may be dropped by the caller
  EXPECT_EQ(wanted, 0u);              // the next header has not arrived

  auto second = frag(true, {4, 5});
  ASSERT_EQ(f.next(second, consumed, record, wanted), Result::kRecord);
  EXPECT_EQ(consumed, second.size());
  EXPECT_EQ(vec(record), (std::vector<uint8_t>{1, 2, 3, 4, 5}));
  EXPECT_FALSE(points_into(record, second));  // assembled in the framer's own buffer
}

TEST(RpcRecordFramer, PartialHeaderNeedsMore) {
  RecordFramer f(1024);
  auto data = frag(true, {1, 2, 3, 4});
  size_t consumed = 7, wanted = 7;
  std::span<const uint8_t> record;
  for (size_t n = 0; n < 4; ++n) {
    EXPECT_EQ(f.next(std::span<const uint8_t>(data.data(), n), consumed, record, wanted),
              Result::kNeedMore);
    EXPECT_EQ(consumed, 0u);
    EXPECT_EQ(wanted, 0u);
  }
}

TEST(RpcRecordFramer, PartialBodyReportsWanted) {
  RecordFramer f(1024);
  std::vector<uint8_t> body(100, 0x5A);
  auto data = frag(true, body);
  size_t consumed = 0, wanted = 0;
  std::span<const uint8_t> record;
  ASSERT_EQ(f.next(std::span<const uint8_t>(data.data(), 14), consumed, record, wanted),
            Result::kNeedMore);
  EXPECT_EQ(consumed, 0u);
  EXPECT_EQ(wanted, 104u);
  // With the rest, the record is complete.
  ASSERT_EQ(f.next(data, consumed, record, wanted), Result::kRecord);
  EXPECT_EQ(record.size(), 100u);

  // Wanted counts from the start of the data, past fragments already copied.
  RecordFramer g(1024);
  auto two = cat({frag(false, {1, 2}), frag(true, std::vector<uint8_t>(10, 9))});
  ASSERT_EQ(g.next(std::span<const uint8_t>(two.data(), two.size() - 3), consumed, record, wanted),
            Result::kNeedMore);
  EXPECT_EQ(consumed, 6u);
  EXPECT_EQ(wanted, two.size());
}

TEST(RpcRecordFramer, SeveralRecordsInOneBuffer) {
  RecordFramer f(1024);
  auto data = cat({frag(true, {1}), frag(false, {2}), frag(true, {3}), frag(true, {4, 4})});
  std::span<const uint8_t> rest(data);
  size_t consumed = 0, wanted = 0;
  std::span<const uint8_t> record;

  ASSERT_EQ(f.next(rest, consumed, record, wanted), Result::kRecord);
  EXPECT_EQ(vec(record), (std::vector<uint8_t>{1}));
  EXPECT_EQ(consumed, 5u);
  rest = rest.subspan(consumed);

  ASSERT_EQ(f.next(rest, consumed, record, wanted), Result::kRecord);
  EXPECT_EQ(vec(record), (std::vector<uint8_t>{2, 3}));
  EXPECT_EQ(consumed, 10u);
  rest = rest.subspan(consumed);

  // After an assembled record, a single-fragment one is a view again.
  ASSERT_EQ(f.next(rest, consumed, record, wanted), Result::kRecord);
  EXPECT_EQ(vec(record), (std::vector<uint8_t>{4, 4}));
  EXPECT_TRUE(points_into(record, data));
  rest = rest.subspan(consumed);
  EXPECT_TRUE(rest.empty());

  ASSERT_EQ(f.next(rest, consumed, record, wanted), Result::kNeedMore);
  EXPECT_EQ(consumed, 0u);
}

TEST(RpcRecordFramer, RecordAtTheLimitIsAccepted) {
  RecordFramer f(16);
  auto data = frag(true, std::vector<uint8_t>(16, 1));
  size_t consumed = 0, wanted = 0;
  std::span<const uint8_t> record;
  EXPECT_EQ(f.next(data, consumed, record, wanted), Result::kRecord);
  RecordFramer g(16);
  auto split =
      cat({frag(false, std::vector<uint8_t>(10, 1)), frag(true, std::vector<uint8_t>(6, 2))});
  EXPECT_EQ(g.next(split, consumed, record, wanted), Result::kRecord);
  EXPECT_EQ(record.size(), 16u);
}

TEST(RpcRecordFramer, SingleFragmentOverTheLimitIsTooLarge) {
  RecordFramer f(16);
  auto data = frag(true, std::vector<uint8_t>(17, 1));
  size_t consumed = 0, wanted = 0;
  std::span<const uint8_t> record;
  EXPECT_EQ(f.next(data, consumed, record, wanted), Result::kTooLarge);

  // Refused on the header alone: no waiting for a huge body.
  RecordFramer g(1024);
  const std::vector<uint8_t> header = {0xFF, 0xFF, 0xFF, 0xFF};
  EXPECT_EQ(g.next(header, consumed, record, wanted), Result::kTooLarge);
}

TEST(RpcRecordFramer, AccumulatedFragmentsOverTheLimitAreTooLarge) {
  RecordFramer f(16);
  auto data =
      cat({frag(false, std::vector<uint8_t>(10, 1)), frag(true, std::vector<uint8_t>(7, 2))});
  size_t consumed = 0, wanted = 0;
  std::span<const uint8_t> record;
  EXPECT_EQ(f.next(data, consumed, record, wanted), Result::kTooLarge);

  // The same across reads.
  RecordFramer g(16);
  auto first = frag(false, std::vector<uint8_t>(10, 1));
  ASSERT_EQ(g.next(first, consumed, record, wanted), Result::kNeedMore);
  auto second = frag(false, std::vector<uint8_t>(7, 2));
  EXPECT_EQ(g.next(second, consumed, record, wanted), Result::kTooLarge);
}

TEST(RpcRecordFramer, ZeroLengthLastFragment) {
  RecordFramer f(1024);
  auto data = cat({frag(false, {1, 2, 3}), frag(true, {})});
  size_t consumed = 0, wanted = 0;
  std::span<const uint8_t> record;
  ASSERT_EQ(f.next(data, consumed, record, wanted), Result::kRecord);
  EXPECT_EQ(consumed, data.size());
  EXPECT_EQ(vec(record), (std::vector<uint8_t>{1, 2, 3}));

  // An empty record on its own.
  auto empty = frag(true, {});
  ASSERT_EQ(f.next(empty, consumed, record, wanted), Result::kRecord);
  EXPECT_EQ(consumed, 4u);
  EXPECT_TRUE(record.empty());
}

TEST(RpcRecordFramer, WriteRecordMark) {
  uint8_t mark[4];
  write_record_mark(mark, 0x123456);
  EXPECT_EQ(vec(std::span<const uint8_t>(mark, 4)), (std::vector<uint8_t>{0x80, 0x12, 0x34, 0x56}));
}

// ---- message headers -----------------------------------------------------------------------

TEST(RpcMessage, CallHeaderRoundTrip) {
  auto cred = encode_auth_sys(1, "host", 1000, 100, {10, 20});
  CallHeader h;
  h.xid = 0xDEADBEEF;
  h.rpc_version = kRpcVersion;
  h.program = 100003;
  h.version = 4;
  h.procedure = 1;
  h.cred = {AuthFlavor::kSys, cred};
  h.verf = {AuthFlavor::kNone, {}};
  xdr::ByteBuffer buf;
  xdr::Encoder e(buf);
  encode_call_header(e, h);
  e.u32(0x5555);  // the body follows

  xdr::Decoder d(buf.span());
  uint32_t xid = 0;
  MsgType type = MsgType::kReply;
  ASSERT_TRUE(decode_xid_and_type(d, xid, type));
  EXPECT_EQ(xid, 0xDEADBEEFu);
  EXPECT_EQ(type, MsgType::kCall);
  CallHeader got;
  ASSERT_TRUE(decode_call_body_header(d, got));
  EXPECT_EQ(got.rpc_version, 2u);
  EXPECT_EQ(got.program, 100003u);
  EXPECT_EQ(got.version, 4u);
  EXPECT_EQ(got.procedure, 1u);
  EXPECT_EQ(got.cred.flavor, AuthFlavor::kSys);
  EXPECT_EQ(vec(got.cred.body), cred);
  EXPECT_GE(got.cred.body.data(), buf.data());  // a view into the record
  EXPECT_EQ(got.verf.flavor, AuthFlavor::kNone);
  EXPECT_TRUE(got.verf.body.empty());
  uint32_t body = 0;
  ASSERT_TRUE(d.u32(body));
  EXPECT_EQ(body, 0x5555u);
  EXPECT_EQ(d.remaining(), 0u);
}

TEST(RpcMessage, BadMessageTypeAndOversizedCredentialFail) {
  const std::vector<uint8_t> type2 = {0, 0, 0, 1, 0, 0, 0, 2};
  xdr::Decoder d(type2);
  uint32_t xid = 0;
  MsgType type{};
  EXPECT_FALSE(decode_xid_and_type(d, xid, type));

  // opaque_auth bodies are at most 400 bytes (RFC 5531 §8.2).
  std::vector<uint8_t> big(kMaxAuthBytes + 1, 0);
  CallHeader h;
  h.rpc_version = 2;
  h.cred = {AuthFlavor::kSys, big};
  xdr::ByteBuffer buf;
  xdr::Encoder e(buf);
  encode_call_header(e, h);
  xdr::Decoder d2(buf.span());
  ASSERT_TRUE(decode_xid_and_type(d2, xid, type));
  CallHeader got;
  EXPECT_FALSE(decode_call_body_header(d2, got));

  // Truncated call header.
  xdr::Decoder d3(std::span<const uint8_t>(buf.data(), 20));
  ASSERT_TRUE(decode_xid_and_type(d3, xid, type));
  EXPECT_FALSE(decode_call_body_header(d3, got));
}

// Encodes a reply with `fn` and decodes its header back.
template <class F>
ReplyHeader round_trip_reply(F fn, uint32_t xid, std::vector<uint8_t>* wire = nullptr) {
  xdr::ByteBuffer buf;
  xdr::Encoder e(buf);
  fn(e);
  if (wire) *wire = vec(buf);
  xdr::Decoder d(buf.span());
  uint32_t got_xid = 0;
  MsgType type = MsgType::kCall;
  EXPECT_TRUE(decode_xid_and_type(d, got_xid, type));
  EXPECT_EQ(got_xid, xid);
  EXPECT_EQ(type, MsgType::kReply);
  ReplyHeader h;
  EXPECT_TRUE(decode_reply_header(d, h));
  EXPECT_EQ(d.remaining(), 0u);
  return h;
}

TEST(RpcMessage, AcceptedSuccessReply) {
  std::vector<uint8_t> wire;
  auto h = round_trip_reply(
      [](xdr::Encoder& e) { encode_accepted_reply(e, 7, AcceptStat::kSuccess); }, 7, &wire);
  EXPECT_EQ(h.stat, ReplyStat::kAccepted);
  EXPECT_EQ(h.accept, AcceptStat::kSuccess);
  // xid, REPLY, MSG_ACCEPTED, verifier AUTH_NONE with empty body, SUCCESS
  EXPECT_EQ(wire, (std::vector<uint8_t>{0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0,
                                        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(RpcMessage, ProgMismatchCarriesTheRange) {
  auto h = round_trip_reply([](xdr::Encoder& e) { encode_prog_mismatch(e, 9, 4, 4); }, 9);
  EXPECT_EQ(h.stat, ReplyStat::kAccepted);
  EXPECT_EQ(h.accept, AcceptStat::kProgMismatch);
  EXPECT_EQ(h.mismatch_low, 4u);
  EXPECT_EQ(h.mismatch_high, 4u);

  auto h2 = round_trip_reply([](xdr::Encoder& e) { encode_prog_mismatch(e, 10, 2, 3); }, 10);
  EXPECT_EQ(h2.mismatch_low, 2u);
  EXPECT_EQ(h2.mismatch_high, 3u);

  auto h3 = round_trip_reply(
      [](xdr::Encoder& e) { encode_accepted_reply(e, 11, AcceptStat::kGarbageArgs); }, 11);
  EXPECT_EQ(h3.accept, AcceptStat::kGarbageArgs);
}

TEST(RpcMessage, RpcMismatchReply) {
  std::vector<uint8_t> wire;
  auto h = round_trip_reply([](xdr::Encoder& e) { encode_rpc_mismatch(e, 12); }, 12, &wire);
  EXPECT_EQ(h.stat, ReplyStat::kDenied);
  EXPECT_EQ(h.reject, RejectStat::kRpcMismatch);
  EXPECT_EQ(h.mismatch_low, 2u);
  EXPECT_EQ(h.mismatch_high, 2u);
  EXPECT_EQ(wire.size(), 24u);  // xid, type, MSG_DENIED, RPC_MISMATCH, low, high
}

TEST(RpcMessage, AuthErrorReply) {
  std::vector<uint8_t> wire;
  auto h = round_trip_reply([](xdr::Encoder& e) { encode_auth_error(e, 13, AuthStat::kTooWeak); },
                            13, &wire);
  EXPECT_EQ(h.stat, ReplyStat::kDenied);
  EXPECT_EQ(h.reject, RejectStat::kAuthError);
  EXPECT_EQ(h.auth, AuthStat::kTooWeak);
  EXPECT_EQ(wire,
            (std::vector<uint8_t>{0, 0, 0, 13, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 5}));
}

TEST(RpcMessage, UnknownReplyStatFails) {
  const std::vector<uint8_t> wire = {0, 0, 0, 2};
  xdr::Decoder d(wire);
  ReplyHeader h;
  EXPECT_FALSE(decode_reply_header(d, h));
}

// ---- authentication ------------------------------------------------------------------------

OpaqueAuth none() {
  return {AuthFlavor::kNone, {}};
}

TEST(RpcAuth, AuthNoneIsNobody) {
  Credentials c;
  c.uid = 5;
  ASSERT_EQ(authenticate(none(), none(), c), AuthStat::kOk);
  EXPECT_EQ(c.flavor, AuthFlavor::kNone);
  EXPECT_EQ(c.uid, Credentials::kNobody);
  EXPECT_EQ(c.gid, Credentials::kNobody);
  EXPECT_TRUE(c.groups.empty());
  EXPECT_FALSE(c.is_root());
}

TEST(RpcAuth, AuthSysIsParsed) {
  auto body = encode_auth_sys(42, "machine.example", 1000, 100, {4, 24, 27});
  Credentials c;
  ASSERT_EQ(authenticate({AuthFlavor::kSys, body}, none(), c), AuthStat::kOk);
  EXPECT_EQ(c.flavor, AuthFlavor::kSys);
  EXPECT_EQ(c.uid, 1000u);
  EXPECT_EQ(c.gid, 100u);
  EXPECT_EQ(c.groups, (std::vector<uint32_t>{4, 24, 27}));
  EXPECT_EQ(c.machine_name, "machine.example");
  EXPECT_TRUE(c.in_group(100));
  EXPECT_TRUE(c.in_group(24));
  EXPECT_FALSE(c.in_group(1000));

  // An AUTH_SYS verifier is accepted too, and root is root.
  auto root = encode_auth_sys(0, "", 0, 0, {});
  ASSERT_EQ(authenticate({AuthFlavor::kSys, root}, {AuthFlavor::kSys, {}}, c), AuthStat::kOk);
  EXPECT_TRUE(c.is_root());
}

TEST(RpcAuth, AtMostSixteenGroups) {
  std::vector<uint32_t> sixteen(16, 7), seventeen(17, 7);
  Credentials c;
  auto ok = encode_auth_sys(0, "m", 1, 1, sixteen);
  EXPECT_EQ(authenticate({AuthFlavor::kSys, ok}, none(), c), AuthStat::kOk);
  EXPECT_EQ(c.groups.size(), 16u);
  Credentials untouched;
  untouched.uid = 4242;
  auto bad = encode_auth_sys(0, "m", 1, 1, seventeen);
  EXPECT_EQ(authenticate({AuthFlavor::kSys, bad}, none(), untouched), AuthStat::kBadCred);
  EXPECT_EQ(untouched.uid, 4242u);  // a refused credential leaves the output alone
}

TEST(RpcAuth, MachineNameAtMost255) {
  Credentials c;
  auto ok = encode_auth_sys(0, std::string(255, 'h'), 1, 1, {});
  EXPECT_EQ(authenticate({AuthFlavor::kSys, ok}, none(), c), AuthStat::kOk);
  auto bad = encode_auth_sys(0, std::string(256, 'h'), 1, 1, {});
  EXPECT_EQ(authenticate({AuthFlavor::kSys, bad}, none(), c), AuthStat::kBadCred);
}

TEST(RpcAuth, TrailingOrMissingBytesAreBadCred) {
  Credentials c;
  auto body = encode_auth_sys(0, "m", 1, 1, {2});
  auto trailing = body;
  trailing.insert(trailing.end(), {0, 0, 0, 0});
  EXPECT_EQ(authenticate({AuthFlavor::kSys, trailing}, none(), c), AuthStat::kBadCred);
  auto truncated = std::vector<uint8_t>(body.begin(), body.end() - 4);
  EXPECT_EQ(authenticate({AuthFlavor::kSys, truncated}, none(), c), AuthStat::kBadCred);
  EXPECT_EQ(authenticate({AuthFlavor::kSys, {}}, none(), c), AuthStat::kBadCred);
}

TEST(RpcAuth, UnknownCredentialFlavorIsBadCred) {
  Credentials c;
  EXPECT_EQ(authenticate({AuthFlavor::kDh, {}}, none(), c), AuthStat::kBadCred);
  EXPECT_EQ(authenticate({static_cast<AuthFlavor>(99), {}}, none(), c), AuthStat::kBadCred);
}

TEST(RpcAuth, BadVerifierFlavorIsBadVerf) {
  Credentials c;
  auto body = encode_auth_sys(0, "m", 1, 1, {});
  EXPECT_EQ(authenticate({AuthFlavor::kSys, body}, {AuthFlavor::kDh, {}}, c), AuthStat::kBadVerf);
  EXPECT_EQ(authenticate(none(), {static_cast<AuthFlavor>(99), {}}, c), AuthStat::kBadVerf);
}

}  // namespace
}  // namespace dfs::rpc
