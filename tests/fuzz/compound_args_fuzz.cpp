// COMPOUND arguments (RFC 8881 §16.2) as a client sends them. Two passes over each input:
//
//  1. Every operation's arguments are decoded as the operation table does, whatever came
//     before them, with attribute lists decoded too and each codec's round trip checked
//     (compound_decoders.h).
//  2. The COMPOUND runs on a fresh in-process server (live_service.h) from a client with a
//     session: the dispatcher, the SEQUENCE gate, the handlers and the state they change,
//     over an in-memory share. The reply must be a well-formed COMPOUND reply for the call.
//
// Input: COMPOUND4args. A first SEQUENCE whose session id is all zeros is sent on the
// client's session, and a sequence id of 0 becomes the slot's next one, so seeds and their
// mutations get past the gate (other session ids and sequence ids test the gate itself).

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "compound_decoders.h"
#include "fuzz_check.h"
#include "live_service.h"
#include "nfs4/constants.h"
#include "nfs4/placement.h"
#include "vfs/block/chunk_pool.h"

namespace {

using namespace dfs;

// Pass 1; returns the operation count the arguments claim (0 if the head is malformed).
uint32_t decode_all(const uint8_t* data, size_t size) {
  xdr::Decoder d({data, size});
  std::string tag;
  uint32_t minor = 0, count = 0;
  d.string(tag, nfs4::kOpaqueLimit);
  d.u32(minor);
  d.count(count, 4);
  if (!d.ok()) return 0;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t op = 0;
    if (!d.u32(op)) break;
    if (fuzz::decode_op_args(op, d) != fuzz::ArgsDecode::kOk) break;
  }
  return count;
}

void patch_sequence(std::vector<uint8_t>& args, const nfs4::SessionId& session) {
  xdr::Decoder d(args);
  std::span<const uint8_t> tag;
  uint32_t minor = 0, count = 0, op = 0;
  d.view(tag, nfs4::kOpaqueLimit);
  d(minor, count, op);
  if (!d.ok() || op != nfs4::OP_SEQUENCE || d.remaining() < nfs4::kSessionIdSize + 8) return;
  const size_t at = static_cast<size_t>(d.cursor() - args.data());
  uint8_t* sid = args.data() + at;
  if (std::any_of(sid, sid + nfs4::kSessionIdSize, [](uint8_t b) { return b != 0; })) return;
  std::memcpy(sid, session.data(), session.size());
  uint8_t* seq = sid + nfs4::kSessionIdSize;
  const uint8_t* slot = seq + 4;
  if (seq[0] == 0 && seq[1] == 0 && seq[2] == 0 && seq[3] == 0) {
    // establish() used slot 0 once; every other slot is fresh.
    const bool slot0 = slot[0] == 0 && slot[1] == 0 && slot[2] == 0 && slot[3] == 0;
    seq[3] = slot0 ? 2 : 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool covered = fuzz::decoders_cover_op_table();
  FUZZ_CHECK(covered);

  const uint32_t count = decode_all(data, size);

  // The transport's look at the head of a large WRITE (RecordHandler::place).
  {
    xdr::Decoder d({data, size});
    nfs4::place_write_data(d, size, vfs::ChunkPool::process_pool());
  }

  fuzz::LiveServer server;
  FUZZ_CHECK(server.establish(false));
  std::vector<uint8_t> args(data, data + size);
  patch_sequence(args, server.sessionid());
  const auto replies = server.compound(args);
  FUZZ_CHECK(replies.size() == 1);  // every call is answered, once
  const auto& reply = replies[0];

  fuzz::CompoundReplyHead head;
  xdr::Decoder results;
  if (fuzz::read_compound_reply(reply, head, results)) {
    // One result per operation run, and all of them when the COMPOUND succeeded.
    FUZZ_CHECK(head.count <= count);
    if (head.status == nfs4::NFS4_OK) FUZZ_CHECK(head.count == count);
  } else {
    // Otherwise only arguments that could not be decoded at all (GARBAGE_ARGS).
    xdr::Decoder d(reply);
    uint32_t xid = 0;
    rpc::MsgType type{};
    rpc::ReplyHeader rh;
    FUZZ_CHECK(rpc::decode_xid_and_type(d, xid, type) && rpc::decode_reply_header(d, rh));
    FUZZ_CHECK(rh.stat == rpc::ReplyStat::kAccepted && rh.accept == rpc::AcceptStat::kGarbageArgs);
    FUZZ_CHECK(count == 0);
  }
  return 0;
}
