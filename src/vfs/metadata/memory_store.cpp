#include "vfs/metadata/memory_store.h"

#include <algorithm>
#include <mutex>

namespace dfs::vfs {

InodeId MemoryMetadataStore::root() {
  if (!root_created_.load(std::memory_order_acquire)) {
    std::unique_lock lock(mu_);
    ensure_root_locked();
  }
  return kRootId;
}

void MemoryMetadataStore::ensure_root_locked() {
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
  inodes_.insert_or_assign(kRootId, std::move(r));
  dirs_.try_emplace(kRootId);
  root_created_.store(true, std::memory_order_release);
}

std::optional<InodeRecord> MemoryMetadataStore::get(InodeId id) {
  std::shared_lock lock(mu_);
  auto it = inodes_.find(id);
  if (it == inodes_.end()) return std::nullopt;
  return it->second;
}

std::optional<InodeId> MemoryMetadataStore::lookup(InodeId dir, std::string_view name) {
  std::shared_lock lock(mu_);
  auto d = dirs_.find(dir);
  if (d == dirs_.end()) return std::nullopt;
  auto e = d->second.by_name.find(name);
  if (e == d->second.by_name.end()) return std::nullopt;
  return e->second.child;
}

std::vector<DirEntry> MemoryMetadataStore::list(InodeId dir, uint64_t after_cookie,
                                                size_t max_entries) {
  std::vector<DirEntry> out;
  std::shared_lock lock(mu_);
  auto d = dirs_.find(dir);
  if (d == dirs_.end() || max_entries == 0) return out;
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

bool MemoryMetadataStore::is_empty_dir(InodeId dir) {
  std::shared_lock lock(mu_);
  auto d = dirs_.find(dir);
  return d == dirs_.end() || d->second.by_name.empty();
}

bool MemoryMetadataStore::valid_cookie(InodeId dir, uint64_t cookie) {
  if (cookie == 0) return true;
  std::shared_lock lock(mu_);
  auto d = dirs_.find(dir);
  if (d == dirs_.end()) return false;
  // Cookies are issued in increasing order and never reused, so every value in
  // [kFirstCookie, next_cookie) was handed out for this directory at some point.
  return cookie >= kFirstCookie && cookie < d->second.next_cookie;
}

InodeId MemoryMetadataStore::allocate_id() {
  std::unique_lock lock(mu_);
  return next_id_++;
}

std::optional<FileType> MemoryMetadataStore::type_after_puts(const MetadataBatch& batch,
                                                             InodeId id) const {
  for (auto it = batch.put_inodes.rbegin(); it != batch.put_inodes.rend(); ++it) {
    if (it->id == id) return it->type;
  }
  auto i = inodes_.find(id);
  if (i == inodes_.end()) return std::nullopt;
  return i->second.type;
}

Status MemoryMetadataStore::validate(const MetadataBatch& batch) const {
  // Batches are small (a rename touches at most two entries of each kind), so the checks for
  // names touched twice in one batch are linear scans.
  const auto& removes = batch.remove_entries;
  for (size_t i = 0; i < removes.size(); ++i) {
    auto d = dirs_.find(removes[i].dir);
    if (d == dirs_.end() || !d->second.by_name.contains(removes[i].name)) return Status::kNoEnt;
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
    auto d = dirs_.find(adds[i].dir);
    bool exists = d != dirs_.end() && d->second.by_name.contains(adds[i].name);
    if (exists) {
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
  std::unique_lock lock(mu_);
  // Validate everything first so a batch either applies whole or not at all; the steps below
  // cannot fail except by allocation failure.
  if (Status s = validate(batch); s != Status::kOk) return s;

  for (const auto& rec : batch.put_inodes) {
    inodes_.insert_or_assign(rec.id, rec);
    if (rec.type == FileType::kDirectory) dirs_.try_emplace(rec.id);
  }
  for (const auto& r : batch.remove_entries) {
    Dir& d = dirs_.find(r.dir)->second;
    auto e = d.by_name.find(r.name);
    d.by_cookie.erase(e->second.cookie);
    d.by_name.erase(e);
  }
  for (const auto& a : batch.add_entries) {
    Dir& d = dirs_[a.dir];
    uint64_t cookie = d.next_cookie++;
    auto e = d.by_name.try_emplace(a.name, Entry{a.child, cookie}).first;
    d.by_cookie.emplace(cookie, CookieEntry{&e->first, a.child});
  }
  for (InodeId id : batch.delete_inodes) {
    inodes_.erase(id);
    dirs_.erase(id);
  }
  return Status::kOk;
}

Status MemoryMetadataStore::put(const InodeRecord& record) {
  std::unique_lock lock(mu_);
  inodes_.insert_or_assign(record.id, record);
  if (record.type == FileType::kDirectory) dirs_.try_emplace(record.id);
  return Status::kOk;
}

uint64_t MemoryMetadataStore::inode_count() {
  std::shared_lock lock(mu_);
  return inodes_.size();
}

}  // namespace dfs::vfs
