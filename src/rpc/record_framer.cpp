#include "rpc/record_framer.h"

namespace dfs::rpc {
namespace {
constexpr size_t kKeptAssembly = 256 * 1024;
}  // namespace

RecordFramer::Result RecordFramer::next(std::span<const uint8_t> data, size_t& consumed,
                                        std::span<const uint8_t>& record, size_t& wanted) {
  if (!assembling_) {
    // A large assembled record's buffer is not kept for the next one: an idle connection
    // would go on holding it.
    if (assembly_.capacity() > kKeptAssembly) {
      assembly_ = xdr::ByteBuffer();
    } else {
      assembly_.clear();
    }
  }
  size_t pos = 0;
  consumed = 0;
  wanted = 0;
  while (data.size() - pos >= 4) {
    const uint8_t* h = data.data() + pos;
    uint32_t header =
        (uint32_t{h[0]} << 24) | (uint32_t{h[1]} << 16) | (uint32_t{h[2]} << 8) | h[3];
    bool last = (header & kLastFragmentBit) != 0;
    size_t length = header & ~kLastFragmentBit;
    if (assembly_.size() + length > max_record_size_) return Result::kTooLarge;
    if (data.size() - pos - 4 < length) {
      wanted = pos + 4 + length;
      break;
    }
    const uint8_t* body = h + 4;
    pos += 4 + length;
    if (last && !assembling_) {
      record = {body, length};
      consumed = pos;
      return Result::kRecord;
    }
    assembly_.append(body, length);
    assembling_ = true;
    consumed = pos;
    if (last) {
      assembling_ = false;
      record = assembly_.span();
      return Result::kRecord;
    }
  }
  return Result::kNeedMore;
}

}  // namespace dfs::rpc
