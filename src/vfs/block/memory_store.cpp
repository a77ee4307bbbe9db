#include "vfs/block/memory_store.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>
#include <stdexcept>

#include "util/stream_copy.h"
#include "vfs/block/pooled_payload.h"

namespace dfs::vfs {

namespace {

alignas(64) const uint8_t kZeros[MemoryBlockStore::kChunkSize] = {};

// True when `slot` is the only reference to its chunk, i.e. no READ reply still holds it. The
// caller holds the file's shard exclusively, or shared plus the slot's lock (READ copies a
// slot's pointer only under that lock held shared), so no new reference can appear meanwhile;
// the count can only drop. The acquire fence pairs with the release in the readers' shared_ptr
// decrement so their reads of the old bytes happen before our writes.
template <class T>
bool sole_owner(const std::shared_ptr<T>& slot) {
  if constexpr (!MemoryBlockStore::kInPlaceWrites) {
    (void)slot;
    return false;
  } else {
    if (slot.use_count() != 1) return false;
    std::atomic_thread_fence(std::memory_order_acquire);
    return true;
  }
}

}  // namespace

const std::shared_ptr<const uint8_t>& MemoryBlockStore::zero_chunk() {
  // Static storage with a no-op deleter: hole pieces share one owner and never free it.
  static const std::shared_ptr<const uint8_t> zero(kZeros, [](const uint8_t*) {});
  return zero;
}

MemoryBlockStore::MemoryBlockStore(std::shared_ptr<ChunkPool> pool) : pool_(std::move(pool)) {
  if (!pool_ || pool_->chunk_size() != kChunkSize) {
    throw std::invalid_argument("memory block store needs a pool of 256 KiB chunks");
  }
}

void MemoryBlockStore::ReleaseBytes::operator()(uint8_t* p) const {
  if (pool) {
    pool->release(p);
  } else {
    delete[] p;
  }
}

MemoryBlockStore::Chunk::Chunk(size_t cap, const std::shared_ptr<ChunkPool>& pool)
    : capacity(cap),
      bytes(cap == kChunkSize ? pool->acquire() : new uint8_t[cap],
            ReleaseBytes{cap == kChunkSize ? pool : nullptr}) {}

MemoryBlockStore::Chunk::Chunk(std::unique_ptr<uint8_t[], ReleaseBytes> full)
    : capacity(kChunkSize), bytes(std::move(full)) {}

size_t MemoryBlockStore::capacity_for(size_t end) {
  return std::clamp(std::bit_ceil(end), kMinChunkCapacity, kChunkSize);
}

std::shared_ptr<MemoryBlockStore::Chunk> MemoryBlockStore::rebuild(const Chunk* old, size_t cap,
                                                                   size_t skip_from,
                                                                   size_t skip_to) {
  auto c = std::make_shared<Chunk>(cap, pool_);
  size_t old_cap = old ? old->capacity : 0;
  // Fill [a, b) from the old chunk where it has bytes, zeros beyond.
  auto fill = [&](size_t a, size_t b) {
    if (a >= b) return;
    size_t copy_end = std::min(b, old_cap);
    if (a < copy_end) std::memcpy(c->bytes.get() + a, old->bytes.get() + a, copy_end - a);
    size_t zero_from = std::max(a, copy_end);
    if (zero_from < b) std::memset(c->bytes.get() + zero_from, 0, b - zero_from);
  };
  skip_from = std::min(skip_from, cap);
  skip_to = std::clamp(skip_to, skip_from, cap);
  fill(0, skip_from);
  fill(skip_to, cap);
  return c;
}

void MemoryBlockStore::account(File& f, int64_t delta) {
  f.bytes.fetch_add(static_cast<uint64_t>(delta), std::memory_order_relaxed);
  total_bytes_.fetch_add(static_cast<uint64_t>(delta), std::memory_order_relaxed);
}

MemoryBlockStore::File* MemoryBlockStore::find_locked(Shard& sh, InodeId id) {
  auto it = sh.files.find(id);
  return it == sh.files.end() ? nullptr : it->second.get();
}

MemoryBlockStore::File& MemoryBlockStore::file_locked(Shard& sh, InodeId id) {
  auto [it, added] = sh.files.try_emplace(id);
  if (added) {
    try {
      it->second = std::make_unique<File>();
    } catch (...) {
      sh.files.erase(it);  // no empty entry left behind when memory ran out
      throw;
    }
  }
  return *it->second;
}

Status MemoryBlockStore::read(InodeId id, uint64_t offset, size_t length, ReadBuffer& out) {
  out.pieces.clear();
  if (length == 0) return Status::kOk;
  if (offset + length < offset) return Status::kInval;
  out.pieces.reserve(length / kChunkSize + 2);

  auto add_zeros = [&](size_t n) {
    // Holes: pieces of the shared zero buffer, adjacent ones merged up to its size.
    while (n > 0) {
      if (!out.pieces.empty() && out.pieces.back().owner == zero_chunk()) {
        auto& last = out.pieces.back();
        size_t room = kChunkSize - last.bytes.size();
        if (room > 0) {
          size_t take = std::min(room, n);
          last.bytes = {kZeros, last.bytes.size() + take};
          n -= take;
          continue;
        }
      }
      size_t take = std::min(n, kChunkSize);
      out.pieces.push_back(xdr::DataRef{{kZeros, take}, zero_chunk()});
      n -= take;
    }
  };

  // Shared: only references to chunks are taken, each under its slot lock.
  Shard& sh = shard(id);
  std::shared_lock lock(sh.mu);
  File* f = find_locked(sh, id);
  if (!f) {
    add_zeros(length);
    return Status::kOk;
  }
  uint64_t pos = offset;
  uint64_t end = offset + length;
  auto it = f->chunks.lower_bound(pos / kChunkSize);
  while (pos < end) {
    uint64_t index = pos / kChunkSize;
    size_t coff = static_cast<size_t>(pos % kChunkSize);
    size_t n = static_cast<size_t>(std::min<uint64_t>(kChunkSize - coff, end - pos));
    while (it != f->chunks.end() && it->first < index)
      ++it;
    std::shared_ptr<const Chunk> held;
    if (it != f->chunks.end() && it->first == index) {
      // The owner is the chunk itself: while the reply holds it, a write clones instead of
      // modifying these bytes.
      std::shared_lock slot(slot_lock(id, index));
      held = it->second;
    }
    if (held && coff < held->capacity) {
      size_t have = std::min(n, held->capacity - coff);
      const uint8_t* bytes = held->bytes.get() + coff;
      out.pieces.push_back(xdr::DataRef{{bytes, have}, std::move(held)});
      add_zeros(n - have);
    } else {
      add_zeros(n);
    }
    pos += n;
  }
  return Status::kOk;
}

util::SpinningSharedMutex& MemoryBlockStore::slot_lock(InodeId id, uint64_t index) {
  const uint64_t h = (id * 0x9E3779B97F4A7C15ull) ^ (index * 0xC2B2AE3D27D4EB4Full);
  return slot_locks_[(h >> 32) % kSlotLocks].mu;
}

void MemoryBlockStore::raise_length(File& f, uint64_t end) {
  uint64_t cur = f.length.load(std::memory_order_relaxed);
  while (end > cur && !f.length.compare_exchange_weak(cur, end, std::memory_order_relaxed)) {
  }
}

void MemoryBlockStore::write_chunk(File& f, std::shared_ptr<Chunk>& slot, size_t coff,
                                   std::span<const uint8_t> data) {
  Chunk* cur = slot.get();
  const size_t n = data.size();
  if (!cur || cur->capacity < coff + n || !sole_owner(slot)) {
    // New, too small, or still referenced by a READ reply: write into a fresh chunk.
    size_t old_cap = cur ? cur->capacity : 0;
    size_t cap = std::max(old_cap, capacity_for(coff + n));
    slot = rebuild(cur, cap, coff, coff + n);
    account(f, static_cast<int64_t>(cap) - static_cast<int64_t>(old_cap));
  }
  util::stream_copy(slot->bytes.get() + coff, data.data(), n);
}

void MemoryBlockStore::write_locked(File& f, uint64_t pos, std::span<const uint8_t> data) {
  while (!data.empty()) {
    uint64_t index = pos / kChunkSize;
    size_t coff = static_cast<size_t>(pos % kChunkSize);
    size_t n = std::min(kChunkSize - coff, data.size());
    auto [it, added] = f.chunks.try_emplace(index);
    try {
      write_chunk(f, it->second, coff, data.first(n));
    } catch (...) {
      if (added) f.chunks.erase(it);  // no empty slot left behind when memory ran out
      throw;
    }
    pos += n;
    data = data.subspan(n);
  }
}

bool MemoryBlockStore::overwrite_shared(File& f, InodeId id, uint64_t pos,
                                        std::span<const uint8_t> data) {
  const uint64_t first = pos / kChunkSize;
  const uint64_t last = (pos + data.size() - 1) / kChunkSize;
  const auto start = f.chunks.find(first);
  auto it = start;
  for (uint64_t index = first; index <= last; ++index, ++it) {
    if (it == f.chunks.end() || it->first != index) return false;
  }
  it = start;
  while (!data.empty()) {
    const uint64_t index = pos / kChunkSize;
    size_t coff = static_cast<size_t>(pos % kChunkSize);
    size_t n = std::min(kChunkSize - coff, data.size());
    {
      std::unique_lock slot(slot_lock(id, index));
      write_chunk(f, it->second, coff, data.first(n));
    }
    ++it;
    pos += n;
    data = data.subspan(n);
  }
  return true;
}

void MemoryBlockStore::adopt_locked(File& f, uint64_t index, uint8_t* bytes) {
  // Owned before anything can throw, so the buffer goes back to the pool whatever happens.
  std::unique_ptr<uint8_t[], ReleaseBytes> owned(bytes, ReleaseBytes{pool_});
  auto chunk = std::make_shared<Chunk>(std::move(owned));
  auto [it, inserted] = f.chunks.try_emplace(index, chunk);
  size_t old_cap = inserted ? 0 : it->second->capacity;
  // A READ reply holding the old chunk keeps it; the file moves on to the new one.
  if (!inserted) it->second = std::move(chunk);
  account(f, static_cast<int64_t>(kChunkSize) - static_cast<int64_t>(old_cap));
}

Status MemoryBlockStore::write(InodeId id, uint64_t offset, std::span<const uint8_t> data) {
  if (data.empty()) return Status::kOk;
  if (offset + data.size() < offset) return Status::kFBig;
  Shard& sh = shard(id);
  try {
    {
      std::shared_lock lock(sh.mu);
      if (File* f = find_locked(sh, id); f && overwrite_shared(*f, id, offset, data)) {
        raise_length(*f, offset + data.size());
        return Status::kOk;
      }
    }
    // A new file or a new chunk: exclusively.
    std::lock_guard lock(sh.mu);
    File& f = file_locked(sh, id);
    write_locked(f, offset, data);
    raise_length(f, offset + data.size());
  } catch (const std::bad_alloc&) {
    return Status::kNoSpc;
  }
  return Status::kOk;
}

Status MemoryBlockStore::write_out_of_line(InodeId id, uint64_t offset, xdr::OutOfLineBytes& data) {
  auto* pooled = dynamic_cast<PooledPayload*>(&data);
  if (!pooled || pooled->pool() != pool_ || pooled->lead() != offset % kChunkSize) {
    return BlockStore::write_out_of_line(id, offset, data);
  }
  if (data.length == 0) return Status::kOk;
  if (offset + data.length < offset) return Status::kFBig;
  Shard& sh = shard(id);
  try {
    std::lock_guard lock(sh.mu);
    File& f = file_locked(sh, id);
    uint64_t pos = offset;
    for (size_t i = 0; i < pooled->buffer_count(); ++i) {
      auto seg = data.segments[i];
      if (seg.size() == kChunkSize) {
        adopt_locked(f, pos / kChunkSize, pooled->take(i));
      } else {
        write_locked(f, pos, seg);
      }
      pos += seg.size();
    }
    raise_length(f, pos);
  } catch (const std::bad_alloc&) {
    return Status::kNoSpc;
  }
  return Status::kOk;
}

Status MemoryBlockStore::truncate(InodeId id, uint64_t size) {
  Shard& sh = shard(id);
  try {
    std::lock_guard lock(sh.mu);
    File* f = find_locked(sh, id);
    if (!f) return Status::kOk;  // nothing written: everything already reads as zeros
    f->length.store(size, std::memory_order_relaxed);
    uint64_t keep_index = size / kChunkSize;
    size_t coff = static_cast<size_t>(size % kChunkSize);
    // Whole chunks at or past the new end go; the chunk holding the new end keeps [0, coff).
    auto first_drop = f->chunks.lower_bound(coff == 0 ? keep_index : keep_index + 1);
    for (auto it = first_drop; it != f->chunks.end(); ++it) {
      account(*f, -static_cast<int64_t>(it->second->capacity));
    }
    f->chunks.erase(first_drop, f->chunks.end());
    if (coff != 0) {
      auto it = f->chunks.find(keep_index);
      if (it != f->chunks.end() && it->second->capacity > coff) {
        auto& slot = it->second;
        if (sole_owner(slot)) {
          std::memset(slot->bytes.get() + coff, 0, slot->capacity - coff);
        } else {
          // A reader holds the old bytes: build a trimmed copy instead of zeroing in place.
          size_t old_cap = slot->capacity;
          size_t cap = capacity_for(coff);
          auto c = rebuild(nullptr, cap, 0, 0);
          std::memcpy(c->bytes.get(), slot->bytes.get(), coff);
          slot = std::move(c);
          account(*f, static_cast<int64_t>(cap) - static_cast<int64_t>(old_cap));
        }
      }
    }
  } catch (const std::bad_alloc&) {
    return Status::kNoSpc;
  }
  return Status::kOk;
}

Status MemoryBlockStore::remove(InodeId id) {
  std::unique_ptr<File> f;
  {
    Shard& sh = shard(id);
    std::lock_guard lock(sh.mu);
    auto it = sh.files.find(id);
    if (it == sh.files.end()) return Status::kOk;
    f = std::move(it->second);
    sh.files.erase(it);
    // Out of the map, nobody can reach the file any more: the accounting is final.
    total_bytes_.fetch_sub(f->bytes.load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
  // Its chunks go back to the pool outside the shard (READ replies keep those they hold).
  f.reset();
  return Status::kOk;
}

Status MemoryBlockStore::sync(InodeId) {
  return Status::kOk;
}

Result<uint64_t> MemoryBlockStore::stored_length(InodeId id) {
  Shard& sh = shard(id);
  std::shared_lock lock(sh.mu);
  File* f = find_locked(sh, id);
  return f ? f->length.load(std::memory_order_relaxed) : uint64_t{0};
}

uint64_t MemoryBlockStore::space_used(InodeId id) {
  Shard& sh = shard(id);
  std::shared_lock lock(sh.mu);
  File* f = find_locked(sh, id);
  return f ? f->bytes.load(std::memory_order_relaxed) : 0;
}

uint64_t MemoryBlockStore::total_bytes_used() {
  return total_bytes_.load(std::memory_order_relaxed);
}

}  // namespace dfs::vfs
