#include "vfs/metadata/memory_store.h"

#include <algorithm>
#include <bit>
#include <mutex>
#include <stdexcept>

namespace dfs::vfs {

namespace {

// Locks the shards named by a mask exclusively, lowest first, so two batches with
// overlapping shards cannot deadlock.
template <class Shards>
class ShardsGuard {
 public:
  ShardsGuard(Shards& shards, uint64_t mask) : shards_(shards), mask_(mask) {
    for (uint64_t m = mask_; m != 0; m &= m - 1)
      shards_[static_cast<size_t>(std::countr_zero(m))].mu.lock();
  }
  ~ShardsGuard() {
    for (uint64_t m = mask_; m != 0; m &= m - 1)
      shards_[static_cast<size_t>(std::countr_zero(m))].mu.unlock();
  }
  ShardsGuard(const ShardsGuard&) = delete;
  ShardsGuard& operator=(const ShardsGuard&) = delete;

 private:
  Shards& shards_;
  const uint64_t mask_;
};

}  // namespace

MemoryMetadataStore::ShardMask MemoryMetadataStore::shards_of(const MetadataBatch& batch) {
  static_assert(sizeof(ShardMask) * 8 == kShards, "one mask bit per shard");
  ShardMask mask = 0;
  auto add = [&](InodeId id) { mask |= ShardMask{1} << shard_of(id); };
  for (const auto& r : batch.put_inodes)
    add(r.id);
  for (const auto& r : batch.remove_entries)
    add(r.dir);
  for (const auto& a : batch.add_entries) {
    add(a.dir);
    add(a.child);
  }
  for (InodeId id : batch.delete_inodes)
    add(id);
  return mask;
}

InodeId MemoryMetadataStore::root() {
  if (!root_created_.load(std::memory_order_acquire)) ensure_root();
  return kRootId;
}

void MemoryMetadataStore::ensure_root() {
  Shard& sh = shard(kRootId);
  std::unique_lock lock(sh.mu);
  if (root_created_.load(std::memory_order_relaxed)) return;
  InodeRecord r;
  r.id = kRootId;
  r.type = FileType::kDirectory;
  r.mode = 0755;
  r.nlink = 2;  // its entry in itself ("." ) and its ".." (the root is its own parent)
  r.uid = 0;
  r.gid = 0;
  r.size = 4096;
  r.atime = r.mtime = r.ctime = r.btime = now();
  r.change = 1;
  r.generation = 1;
  r.parent = kRootId;
  if (journal_ && journal_->record_put(r) != Status::kOk) {
    throw std::runtime_error("metadata store: cannot record the root directory");
  }
  sh.inodes.insert_or_assign(kRootId, std::move(r));
  sh.dirs.try_emplace(kRootId);
  root_created_.store(true, std::memory_order_release);
}

Result<InodeRecord> MemoryMetadataStore::get(InodeId id) {
  Shard& sh = shard(id);
  std::shared_lock lock(sh.mu);
  auto it = sh.inodes.find(id);
  if (it == sh.inodes.end()) return Status::kStale;
  return it->second;
}

Result<std::vector<std::optional<InodeRecord>>> MemoryMetadataStore::get_many(
    std::span<const InodeId> ids) {
  std::vector<std::optional<InodeRecord>> out(ids.size());
  // Positions grouped by shard, each group in the order asked (a stable counting sort).
  std::array<uint32_t, kShards + 1> start{};
  for (InodeId id : ids)
    ++start[shard_of(id) + 1];
  for (size_t k = 1; k <= kShards; ++k)
    start[k] += start[k - 1];
  std::vector<uint32_t> order(ids.size());
  std::array<uint32_t, kShards> next;
  std::copy(start.begin(), start.end() - 1, next.begin());
  for (size_t i = 0; i < ids.size(); ++i)
    order[next[shard_of(ids[i])]++] = static_cast<uint32_t>(i);
  for (size_t k = 0; k < kShards; ++k) {
    if (start[k] == start[k + 1]) continue;
    Shard& sh = shards_[k];
    std::shared_lock lock(sh.mu);
    for (uint32_t n = start[k]; n < start[k + 1]; ++n) {
      auto it = sh.inodes.find(ids[order[n]]);
      if (it != sh.inodes.end()) out[order[n]] = it->second;
    }
  }
  return out;
}

Result<InodeId> MemoryMetadataStore::lookup(InodeId dir, std::string_view name) {
  Shard& sh = shard(dir);
  std::shared_lock lock(sh.mu);
  auto d = sh.dirs.find(dir);
  if (d == sh.dirs.end()) return Status::kNoEnt;
  auto e = d->second.by_name.find(name);
  if (e == d->second.by_name.end()) return Status::kNoEnt;
  return e->second.child;
}

Result<std::vector<DirEntry>> MemoryMetadataStore::list(InodeId dir, uint64_t after_cookie,
                                                        size_t max_entries) {
  std::vector<DirEntry> out;
  Shard& sh = shard(dir);
  std::shared_lock lock(sh.mu);
  auto d = sh.dirs.find(dir);
  if (d == sh.dirs.end() || max_entries == 0) return out;
  const auto& by_cookie = d->second.by_cookie;
  // upper_bound: the first entry after the cookie, whether or not the cookie's own entry still
  // exists, so a listing resumes correctly across removals.
  auto it = by_cookie.upper_bound(after_cookie);
  out.reserve(std::min(max_entries, by_cookie.size()));
  for (; it != by_cookie.end() && out.size() < max_entries; ++it) {
    out.push_back(DirEntry{*it->second.name, it->second.child, it->first});
  }
  return out;
}

Result<bool> MemoryMetadataStore::is_empty_dir(InodeId dir) {
  Shard& sh = shard(dir);
  std::shared_lock lock(sh.mu);
  auto d = sh.dirs.find(dir);
  return d == sh.dirs.end() || d->second.by_name.empty();
}

Result<bool> MemoryMetadataStore::valid_cookie(InodeId dir, uint64_t cookie) {
  if (cookie == 0) return true;
  Shard& sh = shard(dir);
  std::shared_lock lock(sh.mu);
  auto d = sh.dirs.find(dir);
  if (d == sh.dirs.end()) return false;
  // Cookies are issued in increasing order and never reused, so every value in
  // [kFirstCookie, next_cookie) was handed out for this directory at some point.
  return cookie >= kFirstCookie && cookie < d->second.next_cookie;
}

Result<InodeId> MemoryMetadataStore::allocate_id() {
  InodeId id = next_id_.fetch_add(1, std::memory_order_relaxed);
  if (!journal_ || id < id_limit_.load(std::memory_order_acquire)) return id;
  // The reservation is written before any record with the id, so the log never holds an id
  // above its last reservation, and a restart starts above every id ever handed out.
  std::lock_guard lock(id_mu_);
  if (id >= id_limit_.load(std::memory_order_relaxed)) {
    InodeId limit = id + kIdReservation;
    // Refused (a full disk): this id is never handed out, and the next caller tries again.
    if (Status s = journal_->record_id_limit(limit); s != Status::kOk) return s;
    id_limit_.store(limit, std::memory_order_release);
  }
  return id;
}

std::vector<uint64_t> MemoryMetadataStore::assign_cookies(const MetadataBatch& batch) const {
  const auto& adds = batch.add_entries;
  std::vector<uint64_t> cookies(adds.size());
  for (size_t i = 0; i < adds.size(); ++i) {
    // An earlier add to the same directory in this batch took the cookie before this one.
    uint64_t next = 0;
    for (size_t j = i; j-- > 0;) {
      if (adds[j].dir == adds[i].dir) {
        next = cookies[j] + 1;
        break;
      }
    }
    if (next == 0) {
      const Shard& sh = shard(adds[i].dir);
      auto d = sh.dirs.find(adds[i].dir);
      next = d == sh.dirs.end() ? kFirstCookie : d->second.next_cookie;
    }
    cookies[i] = next;
  }
  return cookies;
}

std::optional<FileType> MemoryMetadataStore::type_after_puts(const MetadataBatch& batch,
                                                             InodeId id) const {
  for (auto it = batch.put_inodes.rbegin(); it != batch.put_inodes.rend(); ++it) {
    if (it->id == id) return it->type;
  }
  const Shard& sh = shard(id);
  auto i = sh.inodes.find(id);
  if (i == sh.inodes.end()) return std::nullopt;
  return i->second.type;
}

Status MemoryMetadataStore::validate(const MetadataBatch& batch) const {
  // Batches are small (a rename touches at most two entries of each kind), so the checks for
  // names touched twice in one batch are linear scans.
  auto has_name = [&](InodeId dir, const std::string& name) {
    const Shard& sh = shard(dir);
    auto d = sh.dirs.find(dir);
    return d != sh.dirs.end() && d->second.by_name.contains(name);
  };
  const auto& removes = batch.remove_entries;
  for (size_t i = 0; i < removes.size(); ++i) {
    if (!has_name(removes[i].dir, removes[i].name)) return Status::kNoEnt;
    for (size_t j = 0; j < i; ++j) {
      if (removes[j].dir == removes[i].dir && removes[j].name == removes[i].name) {
        return Status::kNoEnt;
      }
    }
  }
  const auto& adds = batch.add_entries;
  for (size_t i = 0; i < adds.size(); ++i) {
    auto type = type_after_puts(batch, adds[i].dir);
    if (!type) return Status::kStale;
    if (*type != FileType::kDirectory) return Status::kNotDir;
    if (!type_after_puts(batch, adds[i].child)) return Status::kStale;
    if (has_name(adds[i].dir, adds[i].name)) {
      bool removed = std::any_of(removes.begin(), removes.end(), [&](const auto& r) {
        return r.dir == adds[i].dir && r.name == adds[i].name;
      });
      if (!removed) return Status::kExist;
    }
    for (size_t j = 0; j < i; ++j) {
      if (adds[j].dir == adds[i].dir && adds[j].name == adds[i].name) return Status::kExist;
    }
  }
  return Status::kOk;
}

Status MemoryMetadataStore::apply(const MetadataBatch& batch) {
  ShardsGuard guard(shards_, shards_of(batch));
  // Validate everything first so a batch either applies whole or not at all; the steps below
  // cannot fail except by allocation failure.
  if (Status s = validate(batch); s != Status::kOk) return s;
  const std::vector<uint64_t> cookies = assign_cookies(batch);
  if (journal_) {
    std::vector<std::pair<InodeId, uint64_t>> next_cookies;
    for (size_t i = 0; i < cookies.size(); ++i) {
      InodeId dir = batch.add_entries[i].dir;
      auto it = std::find_if(next_cookies.begin(), next_cookies.end(),
                             [&](const auto& p) { return p.first == dir; });
      if (it == next_cookies.end()) {
        next_cookies.emplace_back(dir, cookies[i] + 1);
      } else {
        it->second = std::max(it->second, cookies[i] + 1);
      }
    }
    if (Status s = journal_->record_batch(batch, cookies, next_cookies); s != Status::kOk) {
      return s;
    }
  }

  for (const auto& rec : batch.put_inodes) {
    Shard& sh = shard(rec.id);
    sh.inodes.insert_or_assign(rec.id, rec);
    if (rec.type == FileType::kDirectory) sh.dirs.try_emplace(rec.id);
  }
  for (const auto& r : batch.remove_entries) {
    Dir& d = shard(r.dir).dirs.find(r.dir)->second;
    auto e = d.by_name.find(r.name);
    d.by_cookie.erase(e->second.cookie);
    d.by_name.erase(e);
  }
  for (size_t i = 0; i < batch.add_entries.size(); ++i) {
    const auto& a = batch.add_entries[i];
    Dir& d = shard(a.dir).dirs[a.dir];
    const uint64_t cookie = cookies[i];
    d.next_cookie = cookie + 1;
    auto e = d.by_name.try_emplace(a.name, Entry{a.child, cookie}).first;
    d.by_cookie.emplace(cookie, CookieEntry{&e->first, a.child});
  }
  for (InodeId id : batch.delete_inodes) {
    Shard& sh = shard(id);
    sh.inodes.erase(id);
    sh.dirs.erase(id);
  }
  return Status::kOk;
}

Status MemoryMetadataStore::put(const InodeRecord& record) {
  Shard& sh = shard(record.id);
  std::unique_lock lock(sh.mu);
  if (journal_) {
    if (Status s = journal_->record_put(record); s != Status::kOk) return s;
  }
  sh.inodes.insert_or_assign(record.id, record);
  if (record.type == FileType::kDirectory) sh.dirs.try_emplace(record.id);
  return Status::kOk;
}

Status MemoryMetadataStore::put_unjournaled(const InodeRecord& record) {
  Shard& sh = shard(record.id);
  std::unique_lock lock(sh.mu);
  sh.inodes.insert_or_assign(record.id, record);
  if (record.type == FileType::kDirectory) sh.dirs.try_emplace(record.id);
  return Status::kOk;
}

Status MemoryMetadataStore::journal_current(InodeId id) {
  if (!journal_) return Status::kOk;
  Shard& sh = shard(id);
  std::unique_lock lock(sh.mu);
  auto it = sh.inodes.find(id);
  if (it == sh.inodes.end()) return Status::kOk;
  return journal_->record_put(it->second);
}

Result<uint64_t> MemoryMetadataStore::inode_count() {
  uint64_t n = 0;
  for (Shard& sh : shards_) {
    std::shared_lock lock(sh.mu);
    n += sh.inodes.size();
  }
  return n;
}

Status MemoryMetadataStore::for_each_inode(const std::function<void(const InodeRecord&)>& fn) {
  for (Shard& sh : shards_) {
    std::vector<InodeRecord> records;
    {
      std::shared_lock lock(sh.mu);
      records.reserve(sh.inodes.size());
      for (const auto& [id, r] : sh.inodes)
        records.push_back(r);
    }
    for (const auto& r : records)
      fn(r);
  }
  return Status::kOk;
}

void MemoryMetadataStore::restore_inode(InodeRecord record) {
  Shard& sh = shard(record.id);
  if (record.type == FileType::kDirectory) sh.dirs.try_emplace(record.id);
  if (record.id == kRootId) root_created_.store(true, std::memory_order_release);
  if (record.id >= next_id_.load(std::memory_order_relaxed)) {
    next_id_.store(record.id + 1, std::memory_order_relaxed);
  }
  sh.inodes.insert_or_assign(record.id, std::move(record));
}

void MemoryMetadataStore::restore_entry(InodeId dir, std::string name, InodeId child,
                                        uint64_t cookie) {
  Dir& d = shard(dir).dirs[dir];
  auto e = d.by_name.insert_or_assign(std::move(name), Entry{child, cookie}).first;
  d.by_cookie.insert_or_assign(cookie, CookieEntry{&e->first, child});
  d.next_cookie = std::max(d.next_cookie, cookie + 1);
}

void MemoryMetadataStore::restore_next_cookie(InodeId dir, uint64_t next) {
  Dir& d = shard(dir).dirs[dir];
  d.next_cookie = std::max(d.next_cookie, next);
}

void MemoryMetadataStore::restore_next_id(InodeId next) {
  if (next > next_id_.load(std::memory_order_relaxed)) {
    next_id_.store(next, std::memory_order_relaxed);
  }
}

}  // namespace dfs::vfs
