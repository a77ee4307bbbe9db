#pragma once
// Where the transport should receive a large WRITE's data (rpc::RecordHandler::place): into
// chunk-pool buffers laid out like the file (vfs/block/pooled_payload.h), so the memory block
// store takes them over without a copy. Only the head of the COMPOUND is read, before the
// rest has arrived; it is parsed again, fully, when the record is executed.

#include <cstddef>
#include <memory>

#include "vfs/block/chunk_pool.h"
#include "xdr/decoder.h"
#include "xdr/out_of_line.h"

namespace dfs::nfs4 {

// WRITE data shorter than this is received with the rest of the record (the copy is cheap).
inline constexpr size_t kMinOutOfLineWrite = 64 * 1024;

// For a COMPOUND whose operations up to a WRITE are SEQUENCE and PUTFH (any order, as the
// Linux client and the load generator send them): buffers for the WRITE's data, with
// record_offset counted from the start of `args`. Null for any other shape, data shorter than
// kMinOutOfLineWrite or not a multiple of 4, or a head that does not reach the data.
std::shared_ptr<xdr::OutOfLineBytes> place_write_data(xdr::Decoder& args, size_t args_length,
                                                      const std::shared_ptr<vfs::ChunkPool>& pool);

}  // namespace dfs::nfs4
