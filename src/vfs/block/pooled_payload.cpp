#include "vfs/block/pooled_payload.h"

#include <algorithm>
#include <utility>

namespace dfs::vfs {

PooledPayload::PooledPayload(std::shared_ptr<ChunkPool> pool, size_t lead, size_t length)
    : pool_(std::move(pool)), lead_(lead) {
  const size_t cs = pool_->chunk_size();
  this->length = length;
  size_t count = (lead + length + cs - 1) / cs;
  buffers_.reserve(count);
  segments.reserve(count);
  try {
    for (size_t i = 0; i < count; ++i)
      buffers_.push_back(pool_->acquire());
  } catch (...) {
    for (auto* b : buffers_)
      pool_->release(b);
    throw;
  }
  size_t left = length;
  for (size_t i = 0; i < count; ++i) {
    size_t from = i == 0 ? lead : 0;
    size_t n = std::min(cs - from, left);
    segments.emplace_back(buffers_[i] + from, n);
    left -= n;
  }
}

PooledPayload::~PooledPayload() {
  for (auto* b : buffers_)
    if (b) pool_->release(b);
}

uint8_t* PooledPayload::take(size_t i) {
  return i < buffers_.size() ? std::exchange(buffers_[i], nullptr) : nullptr;
}

}  // namespace dfs::vfs
