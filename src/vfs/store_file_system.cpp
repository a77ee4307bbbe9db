#include "vfs/store_file_system.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "vfs/pending_sync.h"
#include "vfs/permissions.h"

namespace dfs::vfs {

namespace {

constexpr uint32_t kSearch = kAccessExecute;
constexpr uint32_t kModify = kAccessWrite | kAccessExecute;

// A name for a new or looked-up directory entry (POSIX XBD 3.170 "Filename"; NFSv4 component4
// rules in RFC 8881 section 18.*.3: "." and ".." are not names a client may create or look up
// through LOOKUP, which has LOOKUPP for the parent).
Status check_name(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return Status::kInval;
  if (name.size() > kMaxNameLength) return Status::kNameTooLong;
  if (name.find_first_of(std::string_view("/\0", 2)) != std::string_view::npos) {
    return Status::kInval;
  }
  return Status::kOk;
}

uint64_t nanos(Timespec t) {
  return static_cast<uint64_t>(t.sec) * 1000000000u + t.nsec;
}

uint32_t default_mode(FileType type) {
  switch (type) {
    case FileType::kDirectory:
      return 0755;
    case FileType::kSymlink:
      return 0777;
    default:
      return 0644;
  }
}

}  // namespace

// ---- locking helpers ----------------------------------------------------------------------

size_t StoreFileSystem::stripe_of(InodeId id) {
  // Fibonacci hashing spreads consecutive ids (the common case) over all stripes.
  return static_cast<size_t>((id * 0x9E3779B97F4A7C15ull) >> 56) % kStripes;
}

StoreFileSystem::StripeGuard::StripeGuard(StoreFileSystem& fs, std::initializer_list<InodeId> ids)
    : fs_(fs) {
  for (InodeId id : ids) {
    if (id == kInvalidInode || n_ == idx_.size()) continue;
    idx_[n_++] = stripe_of(id);
  }
  std::sort(idx_.begin(), idx_.begin() + n_);
  n_ = static_cast<size_t>(std::unique(idx_.begin(), idx_.begin() + n_) - idx_.begin());
  for (size_t i = 0; i < n_; ++i)
    fs_.stripes_[idx_[i]].mu.lock();
}

StoreFileSystem::StripeGuard::~StripeGuard() {
  for (size_t i = n_; i > 0; --i)
    fs_.stripes_[idx_[i - 1]].mu.unlock();
}

Result<std::optional<InodeId>> StoreFileSystem::find_entry(InodeId dir, std::string_view name) {
  Result<InodeId> id = meta_->lookup(dir, name);
  if (id.ok()) return std::optional<InodeId>(*id);
  if (id.status() == Status::kNoEnt) return std::optional<InodeId>();
  return id.status();
}

Result<std::optional<InodeId>> StoreFileSystem::lock_entry(std::optional<StripeGuard>& guard,
                                                           InodeId dir, std::string_view name) {
  // The entry's inode is known only after a lookup, and stripes must be taken in order, so
  // guess, lock, and look again: with dir's stripe held the entry cannot change, so a second
  // lookup that agrees with the guess means the right stripes are held.
  auto guess = find_entry(dir, name);
  while (true) {
    if (!guess.ok()) return guess;
    guard.emplace(*this, std::initializer_list<InodeId>{dir, guess->value_or(kInvalidInode)});
    auto seen = find_entry(dir, name);
    if (seen.ok() && *seen == *guess) return seen;
    guard.reset();
    guess = std::move(seen);
  }
}

Status StoreFileSystem::check_empty(InodeId dir) {
  Result<bool> empty = meta_->is_empty_dir(dir);
  if (!empty.ok()) return empty.status();
  return *empty ? Status::kOk : Status::kNotEmpty;
}

// ---- construction and small helpers -------------------------------------------------------

StoreFileSystem::StoreFileSystem(uint64_t fsid, std::shared_ptr<MetadataStore> meta,
                                 std::shared_ptr<BlockStore> blocks, bool read_only,
                                 std::optional<uint64_t> capacity)
    : fsid_(fsid),
      meta_(std::move(meta)),
      blocks_(std::move(blocks)),
      read_only_(read_only),
      capacity_(capacity.value_or(kDefaultCapacity)) {
  root_ = meta_->root();
  // Generations tell a new file from an earlier one with the same id across restarts.
  uint64_t start = nanos(now());
  if (auto r = meta_->get(root_); r.ok()) start = std::max(start, r->change);
  generation_ = start;
  if (meta_->durable() && !read_only_) recover();
}

// ---- the changes, made durable before they are answered -------------------------------------

template <class T>
Result<T> StoreFileSystem::settled(Result<T> r) {
  if (!r.ok()) return r;
  if (Status s = settle_metadata(); s != Status::kOk) return s;
  return r;
}

Result<Attributes> StoreFileSystem::setattr(const Identity& who, InodeId id,
                                            const SetAttributes& set,
                                            std::optional<Timespec> guard_ctime) {
  return settled(setattr_unsettled(who, id, set, guard_ctime));
}

Result<CreateResult> StoreFileSystem::create_file(const Identity& who, InodeId dir,
                                                  std::string_view name, CreateMode mode,
                                                  const SetAttributes& attrs,
                                                  const std::array<uint8_t, 8>& verifier) {
  return settled(create_file_unsettled(who, dir, name, mode, attrs, verifier));
}

Result<CreateResult> StoreFileSystem::create_node(const Identity& who, InodeId dir,
                                                  std::string_view name, const NewNode& node) {
  return settled(create_node_unsettled(who, dir, name, node));
}

Result<DirChange> StoreFileSystem::remove(const Identity& who, InodeId dir, std::string_view name) {
  return settled(remove_unsettled(who, dir, name));
}

Result<RenameResult> StoreFileSystem::rename(const Identity& who, InodeId from_dir,
                                             std::string_view from_name, InodeId to_dir,
                                             std::string_view to_name) {
  return settled(rename_unsettled(who, from_dir, from_name, to_dir, to_name));
}

Result<DirChange> StoreFileSystem::link(const Identity& who, InodeId file, InodeId dir,
                                        std::string_view name) {
  return settled(link_unsettled(who, file, dir, name));
}

uint64_t StoreFileSystem::next_change(uint64_t current) {
  return std::max(current + 1, nanos(now()));
}

Attributes StoreFileSystem::to_attrs(const InodeRecord& r) {
  Attributes a;
  a.id = r.id;
  a.type = r.type;
  a.mode = r.mode;
  a.nlink = r.nlink;
  a.uid = r.uid;
  a.gid = r.gid;
  a.size = r.size;
  switch (r.type) {
    case FileType::kRegular:
      a.space_used = blocks_->space_used_is_cheap() ? blocks_->space_used(r.id)
                                                    : (r.size + 4095) / 4096 * 4096;
      break;
    case FileType::kDirectory:
    case FileType::kSymlink:
      a.space_used = r.size;
      break;
    default:
      a.space_used = 0;
  }
  a.atime = r.atime;
  a.mtime = r.mtime;
  a.ctime = r.ctime;
  a.btime = r.btime;
  a.rdev = r.rdev;
  a.change = r.change;
  a.generation = r.generation;
  return a;
}

Result<InodeRecord> StoreFileSystem::load_dir(InodeId dir) {
  auto r = meta_->get(dir);
  if (!r.ok()) return r.status();
  if (r->type != FileType::kDirectory) return Status::kNotDir;
  return std::move(*r);
}

void StoreFileSystem::touch_dir(InodeRecord& dir, Timespec t) {
  dir.mtime = t;
  dir.ctime = t;
  dir.change = next_change(dir.change);
}

Result<InodeRecord> StoreFileSystem::new_record(const Identity& who, const InodeRecord& parent,
                                                FileType type, const SetAttributes& attrs,
                                                Timespec t) {
  Result<InodeId> id = meta_->allocate_id();
  if (!id.ok()) return id.status();
  InodeRecord r;
  r.id = *id;
  r.type = type;
  r.mode = attrs.mode ? (*attrs.mode & kModeMask) : default_mode(type);
  r.uid = who.uid;
  r.gid = new_node_gid(who, FileMode::of(parent));
  // A directory created in a set-group-ID directory is itself set-group-ID, so the group
  // keeps propagating down the tree (the BSD semantics POSIX permits, and Linux implements).
  if (type == FileType::kDirectory && (parent.mode & kSetGid)) r.mode |= kSetGid;
  // Initial owner/group from the request only when the caller could chown to them.
  if (attrs.uid && (who.is_root() || *attrs.uid == who.uid)) r.uid = *attrs.uid;
  if (attrs.gid && (who.is_root() || who.in_group(*attrs.gid))) r.gid = *attrs.gid;
  if (type != FileType::kDirectory && (r.mode & kSetGid) && !who.is_root() &&
      !who.in_group(r.gid)) {
    r.mode &= ~kSetGid;
  }
  r.nlink = type == FileType::kDirectory ? 2 : 1;
  r.atime = r.mtime = r.ctime = r.btime = t;
  if (attrs.atime_how == SetAttributes::TimeHow::kClientTime) r.atime = attrs.atime;
  if (attrs.mtime_how == SetAttributes::TimeHow::kClientTime) r.mtime = attrs.mtime;
  r.change = next_change(r.change);
  r.generation = generation_;
  if (type == FileType::kDirectory) {
    r.parent = parent.id;
    r.size = kDirectorySize;
  }
  return r;
}

Status StoreFileSystem::resize(InodeRecord& r, uint64_t size) {
  if (size > kMaxFileSize) return Status::kFBig;
  if (size != r.size) {
    if (Status s = blocks_->truncate(r.id, size); s != Status::kOk) return s;
    r.size = size;
  }
  return Status::kOk;
}

// ---- attributes ---------------------------------------------------------------------------

Result<Attributes> StoreFileSystem::getattr(InodeId id) {
  auto r = meta_->get(id);
  if (!r.ok()) return r.status();
  return to_attrs(*r);
}

Result<Attributes> StoreFileSystem::setattr_unsettled(const Identity& who, InodeId id,
                                                      const SetAttributes& set,
                                                      std::optional<Timespec> guard_ctime) {
  using TimeHow = SetAttributes::TimeHow;
  if (read_only_ && !set.empty()) return Status::kRoFs;
  StripeGuard guard(*this, {id});
  auto cur = meta_->get(id);
  if (!cur.ok()) return cur.status();
  // RFC 8881 section 18.30.3: the guard compares the object's ctime before any change.
  if (guard_ctime && *guard_ctime != cur->ctime) return Status::kNotSame;
  if (set.empty()) return to_attrs(*cur);

  // Check everything before changing anything, so a refused request changes nothing.
  const FileMode fm = FileMode::of(*cur);
  if (set.size) {
    if (cur->type == FileType::kDirectory) return Status::kIsDir;
    if (cur->type != FileType::kRegular) return Status::kInval;
    if (*set.size > kMaxFileSize) return Status::kFBig;
    // truncate(2): write permission on the file.
    if (!may_access(who, fm, kAccessWrite)) return Status::kAccess;
  }
  uint32_t new_mode = 0;
  if (set.mode) {
    new_mode = *set.mode;
    if (Status s = check_chmod(who, fm, new_mode); s != Status::kOk) return s;
  }
  if (set.uid || set.gid) {
    if (Status s = check_chown(who, fm, set.uid, set.gid); s != Status::kOk) return s;
  }
  bool explicit_times =
      set.atime_how == TimeHow::kClientTime || set.mtime_how == TimeHow::kClientTime;
  bool any_times = set.atime_how != TimeHow::kDontChange || set.mtime_how != TimeHow::kDontChange;
  if (any_times) {
    if (Status s = check_utimes(who, fm, explicit_times); s != Status::kOk) return s;
  }

  InodeRecord r = std::move(*cur);
  const Timespec t = now();
  if (set.uid) r.uid = *set.uid;
  if (set.gid) r.gid = *set.gid;
  if (set.mode) {
    r.mode = new_mode;
  } else if (set.uid || set.gid) {
    // chown(2) clears set-user-ID/set-group-ID on non-directories; an explicit mode in the
    // same request wins (it was checked by check_chmod above).
    r.mode = mode_after_chown(FileMode::of(r));
  }
  if (set.size) {
    if (Status s = resize(r, *set.size); s != Status::kOk) return s;
    // ftruncate(2) / open(O_TRUNC) mark mtime for update; Linux nfsd does so even when the
    // size does not change, so a truncate-to-same-size is visible to caches.
    r.mtime = t;
  }
  if (set.atime_how == TimeHow::kServerTime) r.atime = t;
  if (set.atime_how == TimeHow::kClientTime) r.atime = set.atime;
  if (set.mtime_how == TimeHow::kServerTime) r.mtime = t;
  if (set.mtime_how == TimeHow::kClientTime) r.mtime = set.mtime;
  r.ctime = t;
  r.change = next_change(r.change);
  // An exclusive create's verifier only identifies retries until the client sets attributes
  // (RFC 8881 section 18.16.3).
  r.create_verifier.reset();
  if (Status s = meta_->put(r); s != Status::kOk) return s;
  return to_attrs(r);
}

Result<uint32_t> StoreFileSystem::access(const Identity& who, InodeId id, uint32_t requested) {
  auto r = meta_->get(id);
  if (!r.ok()) return r.status();
  uint32_t granted = granted_access(who, FileMode::of(*r), requested);
  // Nothing is writable on a read-only file system, whatever the mode bits say (access(2)
  // reports EROFS for W_OK there), so clients do not attempt writes that must fail.
  if (read_only_) granted &= ~kAccessWrite;
  return granted;
}

// ---- namespace: lookups -------------------------------------------------------------------

Result<InodeId> StoreFileSystem::lookup(const Identity& who, InodeId dir, std::string_view name) {
  std::shared_lock ns(ns_mu_);
  auto d = meta_->get(dir);
  if (!d.ok()) return d.status();
  if (d->type != FileType::kDirectory) return Status::kNotDir;
  if (Status s = check_name(name); s != Status::kOk) return s;
  // Search permission on the directory (XBD 4.13 "Pathname Resolution").
  if (!may_access(who, FileMode::of(*d), kSearch)) return Status::kAccess;
  return meta_->lookup(dir, name);
}

Result<InodeId> StoreFileSystem::parent(InodeId dir) {
  auto d = meta_->get(dir);
  if (!d.ok()) return d.status();
  if (d->type != FileType::kDirectory) return Status::kNotDir;
  if (dir == root_) return root_;
  return d->parent;
}

Result<std::string> StoreFileSystem::readlink(InodeId id) {
  auto r = meta_->get(id);
  if (!r.ok()) return r.status();
  if (r->type != FileType::kSymlink) return Status::kInval;
  return std::move(r->symlink_target);
}

Result<FileSystem::Listing> StoreFileSystem::readdir(const Identity& who, InodeId dir,
                                                     uint64_t cookie, size_t max_entries) {
  auto d = meta_->get(dir);
  if (!d.ok()) return d.status();
  if (d->type != FileType::kDirectory) return Status::kNotDir;
  if (!may_access(who, FileMode::of(*d), kAccessRead)) return Status::kAccess;
  // RFC 8881 section 18.23.3: a cookie the server never handed out is NFS4ERR_BAD_COOKIE.
  if (cookie != 0) {
    Result<bool> valid = meta_->valid_cookie(dir, cookie);
    if (!valid.ok()) return valid.status();
    if (!*valid) return Status::kInval;
  }
  // One entry more than asked tells whether the listing reached the end.
  size_t want = max_entries == SIZE_MAX ? max_entries : max_entries + 1;
  Result<std::vector<DirEntry>> listed = meta_->list(dir, cookie, want);
  if (!listed.ok()) return listed.status();
  std::vector<DirEntry>& entries = *listed;
  Listing out;
  bool more = entries.size() > max_entries;
  if (more) entries.resize(max_entries);
  out.entries.reserve(entries.size());
  std::vector<InodeId> ids;
  ids.reserve(entries.size());
  for (const auto& e : entries)
    ids.push_back(e.id);
  auto records = meta_->get_many(ids);
  if (!records.ok()) return records.status();
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::optional<InodeRecord>& rec = (*records)[i];
    if (!rec) continue;  // removed between the listing and now
    out.entries.push_back(ListedEntry{std::move(entries[i]), to_attrs(*rec)});
  }
  out.eof = !more;
  return out;
}

// ---- namespace: changes -------------------------------------------------------------------

Result<CreateResult> StoreFileSystem::create_file_unsettled(
    const Identity& who, InodeId dir, std::string_view name, CreateMode mode,
    const SetAttributes& attrs, const std::array<uint8_t, 8>& verifier) {
  if (read_only_) return Status::kRoFs;
  if (Status s = check_name(name); s != Status::kOk) return s;
  if (attrs.size && *attrs.size > kMaxFileSize) return Status::kFBig;
  std::shared_lock ns(ns_mu_);
  std::optional<StripeGuard> guard;
  const auto found = lock_entry(guard, dir, name);
  if (!found.ok()) return found.status();
  const std::optional<InodeId> existing = *found;
  auto d = load_dir(dir);
  if (!d.ok()) return d.status();
  if (!may_access(who, FileMode::of(*d), kSearch)) return Status::kAccess;

  if (existing) {
    // Opening an existing name needs only search permission on the directory (open(2)
    // with O_CREAT on an existing file; RFC 8881 section 18.16.3 for the create modes).
    auto e = meta_->get(*existing);
    if (!e.ok()) return e.status();
    const DirChange unchanged{d->change, d->change};
    switch (mode) {
      case CreateMode::kGuarded:
        return Status::kExist;
      case CreateMode::kExclusive:
        // A retransmitted exclusive create carries the same verifier: it succeeded before,
        // so it succeeds again without creating anything.
        if (e->type == FileType::kRegular && e->create_verifier == verifier) {
          return CreateResult{to_attrs(*e), unchanged, false};
        }
        return Status::kExist;
      case CreateMode::kUnchecked:
        break;
    }
    if (e->type == FileType::kDirectory) return Status::kIsDir;
    if (e->type != FileType::kRegular) return Status::kExist;
    if (attrs.size) {
      // open(O_TRUNC) semantics: truncation needs write permission on the file.
      if (!may_access(who, FileMode::of(*e), kAccessWrite)) return Status::kAccess;
      InodeRecord r = std::move(*e);
      if (Status s = resize(r, *attrs.size); s != Status::kOk) return s;
      const Timespec t = now();
      r.mtime = r.ctime = t;
      r.change = next_change(r.change);
      r.create_verifier.reset();
      if (Status s = meta_->put(r); s != Status::kOk) return s;
      return CreateResult{to_attrs(r), unchanged, false};
    }
    return CreateResult{to_attrs(*e), unchanged, false};
  }

  if (!may_access(who, FileMode::of(*d), kModify)) return Status::kAccess;
  const Timespec t = now();
  auto made = new_record(who, *d, FileType::kRegular, attrs, t);
  if (!made.ok()) return made.status();
  InodeRecord& r = *made;
  // A new file has no content, so a requested size is a pure extension (reads as zeros).
  if (attrs.size) r.size = *attrs.size;
  if (mode == CreateMode::kExclusive) r.create_verifier = verifier;
  DirChange dc{d->change, 0};
  touch_dir(*d, t);
  dc.after = d->change;

  MetadataBatch batch;
  batch.put_inodes.reserve(2);
  batch.put_inodes.push_back(r);
  batch.put_inodes.push_back(std::move(*d));
  batch.add_entries.push_back({dir, std::string(name), r.id});
  if (Status s = meta_->apply(batch); s != Status::kOk) return s;
  return CreateResult{to_attrs(r), dc, true};
}

Result<CreateResult> StoreFileSystem::create_node_unsettled(const Identity& who, InodeId dir,
                                                            std::string_view name,
                                                            const NewNode& node) {
  if (read_only_) return Status::kRoFs;
  switch (node.type) {
    case FileType::kRegular:
      // Regular files go through create_file (NFSv4 CREATE of NF4REG is NFS4ERR_BADTYPE,
      // RFC 8881 section 18.4.3).
      return Status::kBadType;
    case FileType::kSymlink:
      if (node.symlink_target.empty()) return Status::kInval;
      if (node.symlink_target.size() > kMaxSymlinkLength) return Status::kNameTooLong;
      break;
    case FileType::kDirectory:
    case FileType::kBlockDevice:
    case FileType::kCharDevice:
    case FileType::kSocket:
    case FileType::kFifo:
      break;
    default:
      return Status::kBadType;
  }
  if (Status s = check_name(name); s != Status::kOk) return s;
  std::shared_lock ns(ns_mu_);
  StripeGuard guard(*this, {dir});
  const auto found = find_entry(dir, name);
  if (!found.ok()) return found.status();
  const bool exists = found->has_value();
  auto d = load_dir(dir);
  if (!d.ok()) return d.status();
  if (!may_access(who, FileMode::of(*d), kSearch)) return Status::kAccess;
  if (exists) return Status::kExist;
  if (!may_access(who, FileMode::of(*d), kModify)) return Status::kAccess;
  const bool is_dir = node.type == FileType::kDirectory;
  // A new subdirectory's ".." is one more link to the parent.
  if (is_dir && d->nlink >= kMaxLinks) return Status::kMLink;

  const Timespec t = now();
  auto made = new_record(who, *d, node.type, node.attrs, t);
  if (!made.ok()) return made.status();
  InodeRecord& r = *made;
  if (node.type == FileType::kSymlink) {
    r.symlink_target = node.symlink_target;
    r.size = node.symlink_target.size();
  }
  if (node.type == FileType::kBlockDevice || node.type == FileType::kCharDevice) {
    r.rdev = node.rdev;
  }
  DirChange dc{d->change, 0};
  touch_dir(*d, t);
  if (is_dir) d->nlink += 1;
  dc.after = d->change;

  MetadataBatch batch;
  batch.put_inodes.reserve(2);
  batch.put_inodes.push_back(r);
  batch.put_inodes.push_back(std::move(*d));
  batch.add_entries.push_back({dir, std::string(name), r.id});
  if (Status s = meta_->apply(batch); s != Status::kOk) return s;
  return CreateResult{to_attrs(r), dc, true};
}

Result<DirChange> StoreFileSystem::remove_unsettled(const Identity& who, InodeId dir,
                                                    std::string_view name) {
  if (read_only_) return Status::kRoFs;
  if (Status s = check_name(name); s != Status::kOk) return s;
  std::shared_lock ns(ns_mu_);
  std::optional<StripeGuard> guard;
  const auto found = lock_entry(guard, dir, name);
  if (!found.ok()) return found.status();
  const std::optional<InodeId> victim_id = *found;
  auto d = load_dir(dir);
  if (!d.ok()) return d.status();
  const FileMode dm = FileMode::of(*d);
  if (!may_access(who, dm, kSearch)) return Status::kAccess;
  if (!victim_id) return Status::kNoEnt;
  if (!may_access(who, dm, kModify)) return Status::kAccess;
  auto v = meta_->get(*victim_id);
  if (!v.ok()) return v.status();
  // unlink(2)/rmdir(2): in a sticky directory only the entry's or directory's owner (or
  // root) may remove it; EPERM otherwise.
  if (!may_delete_in(who, dm, FileMode::of(*v))) return Status::kPerm;
  const bool is_dir = v->type == FileType::kDirectory;
  if (is_dir) {
    if (Status s = check_empty(v->id); s != Status::kOk) return s;
  }

  const Timespec t = now();
  DirChange dc{d->change, 0};
  touch_dir(*d, t);
  dc.after = d->change;
  MetadataBatch batch;
  batch.remove_entries.push_back({dir, std::string(name)});
  bool free_content = false;
  if (is_dir) {
    d->nlink -= 1;  // the removed directory's ".."
    batch.delete_inodes.push_back(v->id);
  } else if (v->nlink <= 1 && !is_open(v->id)) {
    batch.delete_inodes.push_back(v->id);
    free_content = v->type == FileType::kRegular;
  } else {
    v->nlink -= 1;
    v->ctime = t;
    v->change = next_change(v->change);
    batch.put_inodes.push_back(std::move(*v));
  }
  batch.put_inodes.push_back(std::move(*d));
  if (Status s = meta_->apply(batch); s != Status::kOk) return s;
  if (free_content) blocks_->remove(*victim_id);
  return dc;
}

Result<RenameResult> StoreFileSystem::rename_unsettled(const Identity& who, InodeId from_dir,
                                                       std::string_view from_name, InodeId to_dir,
                                                       std::string_view to_name) {
  if (read_only_) return Status::kRoFs;
  if (Status s = check_name(from_name); s != Status::kOk) return s;
  if (Status s = check_name(to_name); s != Status::kOk) return s;
  std::unique_lock ns(ns_mu_);
  const auto src_found = find_entry(from_dir, from_name);
  if (!src_found.ok()) return src_found.status();
  const auto tgt_found = find_entry(to_dir, to_name);
  if (!tgt_found.ok()) return tgt_found.status();
  const std::optional<InodeId> src_id = *src_found;
  const std::optional<InodeId> tgt_id = *tgt_found;
  StripeGuard guard(
      *this, {from_dir, to_dir, src_id.value_or(kInvalidInode), tgt_id.value_or(kInvalidInode)});
  auto fd = load_dir(from_dir);
  if (!fd.ok()) return fd.status();
  auto td_loaded = load_dir(to_dir);
  if (!td_loaded.ok()) return td_loaded.status();
  const bool same_dir = from_dir == to_dir;
  // One record when both directories are the same, so both updates land on it.
  InodeRecord& td = same_dir ? *fd : *td_loaded;

  if (!may_access(who, FileMode::of(*fd), kSearch)) return Status::kAccess;
  if (!src_id) return Status::kNoEnt;
  if (!may_access(who, FileMode::of(*fd), kModify)) return Status::kAccess;
  if (!may_access(who, FileMode::of(td), kModify)) return Status::kAccess;
  auto src = meta_->get(*src_id);
  if (!src.ok()) return src.status();
  if (!may_delete_in(who, FileMode::of(*fd), FileMode::of(*src))) return Status::kPerm;

  // rename(2): "If the old argument and the new argument resolve to the same existing file,
  // rename() shall return successfully and perform no other action."
  if (tgt_id && *tgt_id == *src_id) {
    return RenameResult{{fd->change, fd->change}, {td.change, td.change}};
  }

  const bool src_is_dir = src->type == FileType::kDirectory;
  if (src_is_dir && !same_dir) {
    // Moving a directory rewrites its "..", which needs write permission on it (Linux and
    // the BSDs; POSIX allows the requirement).
    if (!may_access(who, FileMode::of(*src), kAccessWrite)) return Status::kAccess;
    // Not into its own subtree (EINVAL): walk up from the target directory to the root.
    InodeId p = to_dir;
    while (true) {
      if (p == *src_id) return Status::kInval;
      if (p == root_) break;
      auto pr = meta_->get(p);
      if (!pr.ok() && pr.status() != Status::kStale) return pr.status();
      if (!pr.ok() || pr->parent == p || pr->parent == kInvalidInode) break;
      p = pr->parent;
    }
  }

  std::optional<InodeRecord> tgt;
  if (tgt_id) {
    auto got = meta_->get(*tgt_id);
    if (!got.ok()) return got.status();
    tgt = std::move(*got);
    if (!may_delete_in(who, FileMode::of(td), FileMode::of(*tgt))) return Status::kPerm;
    const bool tgt_is_dir = tgt->type == FileType::kDirectory;
    if (src_is_dir && !tgt_is_dir) return Status::kNotDir;
    if (!src_is_dir && tgt_is_dir) return Status::kIsDir;
    // POSIX allows EEXIST or ENOTEMPTY here; ENOTEMPTY names the actual problem.
    if (tgt_is_dir) {
      if (Status s = check_empty(tgt->id); s != Status::kOk) return s;
    }
  }
  const bool replaces_dir = tgt && tgt->type == FileType::kDirectory;
  if (src_is_dir && !same_dir && !replaces_dir && td.nlink >= kMaxLinks) return Status::kMLink;

  const Timespec t = now();
  RenameResult result;
  result.source.before = fd->change;
  result.target.before = td.change;
  touch_dir(*fd, t);
  if (!same_dir) touch_dir(td, t);
  result.source.after = fd->change;
  result.target.after = td.change;

  MetadataBatch batch;
  batch.remove_entries.push_back({from_dir, std::string(from_name)});
  bool free_content = false;
  if (tgt) {
    batch.remove_entries.push_back({to_dir, std::string(to_name)});
    if (tgt->type == FileType::kDirectory) {
      td.nlink -= 1;  // the replaced directory's ".."
      batch.delete_inodes.push_back(tgt->id);
    } else if (tgt->nlink <= 1 && !is_open(tgt->id)) {
      batch.delete_inodes.push_back(tgt->id);
      free_content = tgt->type == FileType::kRegular;
    } else {
      tgt->nlink -= 1;
      tgt->ctime = t;
      tgt->change = next_change(tgt->change);
      batch.put_inodes.push_back(*tgt);
    }
  }
  batch.add_entries.push_back({to_dir, std::string(to_name), *src_id});
  // rename(2) marks the moved file's ctime for update (Linux and the BSDs do; NFS clients
  // rely on the change attribute moving).
  src->ctime = t;
  src->change = next_change(src->change);
  if (src_is_dir && !same_dir) {
    src->parent = to_dir;
    fd->nlink -= 1;
    td.nlink += 1;
  }
  batch.put_inodes.push_back(std::move(*src));
  batch.put_inodes.push_back(std::move(*fd));
  if (!same_dir) batch.put_inodes.push_back(std::move(td));
  if (Status s = meta_->apply(batch); s != Status::kOk) return s;
  if (free_content) blocks_->remove(*tgt_id);
  return result;
}

Result<DirChange> StoreFileSystem::link_unsettled(const Identity& who, InodeId file, InodeId dir,
                                                  std::string_view name) {
  if (read_only_) return Status::kRoFs;
  if (Status s = check_name(name); s != Status::kOk) return s;
  std::shared_lock ns(ns_mu_);
  StripeGuard guard(*this, {file, dir});
  const auto found = find_entry(dir, name);
  if (!found.ok()) return found.status();
  const bool exists = found->has_value();
  auto f = meta_->get(file);
  if (!f.ok()) return f.status();
  // link(2) of a directory is EPERM on Linux; NFSv4 LINK answers NFS4ERR_ISDIR (RFC 8881
  // section 18.9.4).
  if (f->type == FileType::kDirectory) return Status::kIsDir;
  auto d = load_dir(dir);
  if (!d.ok()) return d.status();
  if (!may_access(who, FileMode::of(*d), kSearch)) return Status::kAccess;
  if (exists) return Status::kExist;
  if (!may_access(who, FileMode::of(*d), kModify)) return Status::kAccess;
  if (f->nlink >= kMaxLinks) return Status::kMLink;

  const Timespec t = now();
  f->nlink += 1;
  f->ctime = t;
  f->change = next_change(f->change);
  DirChange dc{d->change, 0};
  touch_dir(*d, t);
  dc.after = d->change;
  MetadataBatch batch;
  batch.put_inodes.reserve(2);
  batch.put_inodes.push_back(std::move(*f));
  batch.put_inodes.push_back(std::move(*d));
  batch.add_entries.push_back({dir, std::string(name), file});
  if (Status s = meta_->apply(batch); s != Status::kOk) return s;
  return dc;
}

// ---- data ---------------------------------------------------------------------------------

Result<ReadResult> StoreFileSystem::read(InodeId id, uint64_t offset, size_t count) {
  auto r = meta_->get(id);
  if (!r.ok()) return r.status();
  if (r->type == FileType::kDirectory) return Status::kIsDir;
  if (r->type != FileType::kRegular) return Status::kInval;
  ReadResult out;
  if (offset >= r->size) {
    out.eof = true;
    return out;
  }
  size_t n = static_cast<size_t>(std::min<uint64_t>(count, r->size - offset));
  if (n > 0) {
    if (Status s = blocks_->read(id, offset, n, out.data); s != Status::kOk) return s;
  }
  out.eof = offset + n >= r->size;
  return out;
}

template <class StoreBytes>
Result<WriteResult> StoreFileSystem::write_with(InodeId id, uint64_t offset, size_t length,
                                                bool sync, StoreBytes&& store) {
  if (read_only_) return Status::kRoFs;
  if (offset > kMaxFileSize || length > kMaxFileSize - offset) return Status::kFBig;
  // Shared: the file's type and existence change only under the stripe held exclusively, so
  // they hold for the whole write; other WRITEs to the file run alongside.
  Stripe& stripe = stripes_[stripe_of(id)];
  std::shared_lock data_lock(stripe.mu);
  auto cur = meta_->get(id);
  if (!cur.ok()) return cur.status();
  if (cur->type == FileType::kDirectory) return Status::kIsDir;
  if (cur->type != FileType::kRegular) return Status::kInval;
  if (length == 0) return WriteResult{0, to_attrs(*cur)};
  if (Status s = store(); s != Status::kOk) return s;
  // The size and times as the WRITEs before this one left them.
  std::lock_guard record_lock(stripe.record);
  cur = meta_->get(id);
  if (!cur.ok()) return cur.status();
  InodeRecord& r = *cur;
  r.size = std::max<uint64_t>(r.size, offset + length);
  const Timespec t = now();
  r.mtime = r.ctime = t;
  r.change = next_change(r.change);
  r.create_verifier.reset();
  // An UNSTABLE write's size and times need to be durable only once it is committed
  // (settle_data syncs the metadata store, which writes them then).
  if (Status s = sync ? meta_->put(r) : meta_->put_unstable(r); s != Status::kOk) return s;
  return WriteResult{length, to_attrs(r)};
}

// A stable WRITE syncs after the stripe is released: other writers of the file go on while
// this one waits for the disk (or, inside a PendingSync scope, does not wait at all).
Result<WriteResult> StoreFileSystem::write(InodeId id, uint64_t offset,
                                           std::span<const uint8_t> data, bool sync) {
  auto r =
      write_with(id, offset, data.size(), sync, [&] { return blocks_->write(id, offset, data); });
  if (r.ok() && sync) {
    if (Status s = settle_data(id); s != Status::kOk) return s;
  }
  return r;
}

Result<WriteResult> StoreFileSystem::write_out_of_line(InodeId id, uint64_t offset,
                                                       xdr::OutOfLineBytes& data, bool sync) {
  auto r = write_with(id, offset, data.length, sync,
                      [&] { return blocks_->write_out_of_line(id, offset, data); });
  if (r.ok() && sync) {
    if (Status s = settle_data(id); s != Status::kOk) return s;
  }
  return r;
}

Status StoreFileSystem::commit(InodeId id) {
  auto r = meta_->get(id);
  if (!r.ok()) return r.status();
  return settle_data(id);
}

// ---- durability ---------------------------------------------------------------------------

Status StoreFileSystem::settle_metadata() {
  if (!meta_->durable()) return Status::kOk;
  if (PendingSync* p = PendingSync::current()) {
    p->add_metadata(meta_);
    return Status::kOk;
  }
  return meta_->sync();
}

Status StoreFileSystem::settle_data(InodeId id) {
  // Content first: metadata made durable must not describe bytes that are not (§18.32.3:
  // FILE_SYNC4 puts "all file data and metadata" on stable storage before the reply).
  if (PendingSync* p = PendingSync::current()) {
    if (blocks_->durable()) p->add_data(blocks_, id);
    if (meta_->durable()) p->add_metadata(meta_);
    return Status::kOk;
  }
  if (blocks_->durable()) {
    if (Status s = blocks_->sync(id); s != Status::kOk) return s;
  }
  return meta_->durable() ? meta_->sync() : Status::kOk;
}

void StoreFileSystem::recover() {
  // A file unlinked while open whose last close the server did not live to see (an orphan:
  // nlink 0) goes now; a file whose recorded size runs past the content that reached the disk
  // is cut back to it, and content past the recorded size (written, never acknowledged as
  // stable) is dropped, so no file holds bytes it was not sent.
  std::vector<InodeRecord> orphans;
  std::vector<InodeRecord> resized;
  std::vector<std::pair<InodeId, uint64_t>> trimmed;
  const Status walked = meta_->for_each_inode([&](const InodeRecord& r) {
    if (r.nlink == 0 && r.type != FileType::kDirectory) {
      orphans.push_back(r);
      return;
    }
    if (r.type != FileType::kRegular || !blocks_->durable()) return;
    auto stored = blocks_->stored_length(r.id);
    if (!stored.ok()) return;
    if (*stored < r.size) {
      InodeRecord cut = r;
      cut.size = *stored;
      resized.push_back(std::move(cut));
    } else if (*stored > r.size) {
      trimmed.emplace_back(r.id, r.size);
    }
  });
  if (walked != Status::kOk) {
    // Nothing is changed on a partial view: an orphan not seen stays until the next start.
    spdlog::error("file system {}: recovery could not read the metadata store ({}); skipped", fsid_,
                  to_string(walked));
    return;
  }
  for (const auto& r : orphans) {
    MetadataBatch batch;
    batch.delete_inodes.push_back(r.id);
    if (meta_->apply(batch) == Status::kOk && r.type == FileType::kRegular) blocks_->remove(r.id);
  }
  for (const auto& r : resized)
    meta_->put(r);
  for (const auto& [id, size] : trimmed)
    blocks_->truncate(id, size);
  if (!orphans.empty() || !resized.empty() || !trimmed.empty()) {
    spdlog::info(
        "file system {}: recovery removed {} orphans, cut {} sizes back to their content, "
        "trimmed {} files to their sizes",
        fsid_, orphans.size(), resized.size(), trimmed.size());
  }
  for (const auto& [id, size] : trimmed)
    blocks_->sync(id);
  meta_->sync();
}

Result<FsStats> StoreFileSystem::statfs() {
  FsStats s;
  s.bytes_total = capacity_;
  uint64_t used = blocks_->total_bytes_used();
  s.bytes_free = used >= capacity_ ? 0 : capacity_ - used;
  s.bytes_avail = s.bytes_free;
  s.files_total = kFilesTotal;
  Result<uint64_t> files = meta_->inode_count();
  if (!files.ok()) return files.status();
  s.files_free = *files >= kFilesTotal ? 0 : kFilesTotal - *files;
  s.files_avail = s.files_free;
  return s;
}

bool StoreFileSystem::is_open(InodeId id) {
  OpenShard& sh = open_shard(id);
  std::lock_guard lock(sh.mu);
  auto it = sh.refs.find(id);
  return it != sh.refs.end() && it->second > 0;
}

void StoreFileSystem::retain(InodeId id) {
  OpenShard& sh = open_shard(id);
  std::lock_guard lock(sh.mu);
  ++sh.refs[id];
}

void StoreFileSystem::release(InodeId id) {
  {
    OpenShard& sh = open_shard(id);
    std::lock_guard lock(sh.mu);
    auto it = sh.refs.find(id);
    if (it == sh.refs.end()) return;
    if (--it->second > 0) return;
    sh.refs.erase(it);
  }
  // The last reference: an orphan (unlinked while open) goes now. Most files closed still
  // have their name, which a look at the record tells without the namespace lock.
  if (auto r = meta_->get(id); !r.ok() || r->nlink > 0) return;
  std::shared_lock ns(ns_mu_);
  StripeGuard guard(*this, {id});
  auto r = meta_->get(id);
  if (!r.ok() || r->nlink > 0 || r->type == FileType::kDirectory || is_open(id)) return;
  MetadataBatch batch;
  batch.delete_inodes.push_back(id);
  if (meta_->apply(batch) == Status::kOk && r->type == FileType::kRegular) blocks_->remove(id);
}

}  // namespace dfs::vfs
