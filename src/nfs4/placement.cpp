#include "nfs4/placement.h"

#include "nfs4/constants.h"
#include "nfs4/op_types.h"
#include "vfs/block/pooled_payload.h"
#include "xdr/xdr.h"

namespace dfs::nfs4 {
namespace {

// The WRITE is looked for among the first few operations only.
constexpr uint32_t kMaxOpsBeforeWrite = 3;

}  // namespace

std::shared_ptr<xdr::OutOfLineBytes> place_write_data(xdr::Decoder& d, size_t args_length,
                                                      const std::shared_ptr<vfs::ChunkPool>& pool) {
  const uint8_t* args = d.cursor();
  std::span<const uint8_t> tag;
  uint32_t minor = 0, count = 0;
  d.view(tag, kOpaqueLimit);
  d.u32(minor);
  d.u32(count);
  for (uint32_t i = 0; i < count && i <= kMaxOpsBeforeWrite && d.ok(); ++i) {
    uint32_t op = 0;
    if (!d.u32(op)) break;
    if (op == OP_SEQUENCE) {
      SequenceArgs sa;
      xdr::io(d, sa);
    } else if (op == OP_PUTFH) {
      PutFhArgs pa;
      xdr::io(d, pa);
    } else if (op == OP_WRITE) {
      Stateid stateid;
      uint64_t offset = 0;
      uint32_t stable = 0, length = 0;
      xdr::io(d, stateid);
      d(offset, stable, length);
      if (!d.ok() || length < kMinOutOfLineWrite || length % 4 != 0) return nullptr;
      const size_t at = static_cast<size_t>(d.cursor() - args);
      if (at + length > args_length) return nullptr;
      auto bytes = std::make_shared<vfs::PooledPayload>(pool, offset % pool->chunk_size(), length);
      bytes->record_offset = at;
      return bytes;
    } else {
      break;
    }
  }
  return nullptr;
}

}  // namespace dfs::nfs4
