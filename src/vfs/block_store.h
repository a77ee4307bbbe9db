#pragma once
// Where file content lives, keyed by inode id. The file size is metadata; a block store only
// holds bytes (reads past what was written return zeros). Reads hand out references to the
// stored bytes where the store can (the memory store does), so READ replies need no copy.

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "vfs/types.h"
#include "xdr/encoder.h"
#include "xdr/out_of_line.h"

namespace dfs::vfs {

// Data read from a store, as a list of byte ranges each kept alive by its owner.
struct ReadBuffer {
  std::vector<xdr::DataRef> pieces;
  size_t size() const {
    size_t n = 0;
    for (const auto& p : pieces)
      n += p.bytes.size();
    return n;
  }
};

class BlockStore {
 public:
  virtual ~BlockStore() = default;
  // Reads exactly `length` bytes at `offset` (zeros where nothing was written).
  virtual Status read(InodeId id, uint64_t offset, size_t length, ReadBuffer& out) = 0;
  virtual Status write(InodeId id, uint64_t offset, std::span<const uint8_t> data) = 0;
  // The same for bytes the transport received out of line. A store that can take over the
  // buffers (the memory store, for a PooledPayload from its pool) does so; the payload must
  // not be used afterwards. This default writes each segment.
  virtual Status write_out_of_line(InodeId id, uint64_t offset, xdr::OutOfLineBytes& data) {
    for (auto seg : data.segments) {
      if (Status s = write(id, offset, seg); s != Status::kOk) return s;
      offset += seg.size();
    }
    return Status::kOk;
  }
  // Drops content beyond `size` (so a later extension reads zeros).
  virtual Status truncate(InodeId id, uint64_t size) = 0;
  virtual Status remove(InodeId id) = 0;
  // Makes written content durable (no-op for memory): the bytes and what is needed to read
  // them back (the stored length), like fdatasync(2).
  virtual Status sync(InodeId id) = 0;
  // True when content survives a restart once sync() has returned.
  virtual bool durable() const { return false; }
  // How far the stored content of a file reaches (0 for a file with none): after a crash the
  // metadata may say a file is longer than what reached the disk, and start-up recovery
  // trusts the smaller of the two (a file never holds bytes it was not sent).
  virtual Result<uint64_t> stored_length(InodeId id) = 0;
  // Bytes of storage the file occupies.
  virtual uint64_t space_used(InodeId id) = 0;
  // False when space_used() costs I/O (a stat): GETATTR and every READDIR entry then report
  // the size rounded up to 4 KiB instead (sparse files are over-reported).
  virtual bool space_used_is_cheap() const { return true; }
  virtual uint64_t total_bytes_used() = 0;
};

}  // namespace dfs::vfs
