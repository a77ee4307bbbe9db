#include "vfs/block/fs_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "util/log_every.h"

namespace dfs::vfs {

namespace {

// Disk errors repeat with every request that meets them (a full disk fails every WRITE):
// one line per 5 s, saying how many were left out.
util::LogEvery disk_errors{std::chrono::seconds(5)};

Status from_errno(int err, const char* what, InodeId id) {
  if (uint64_t held = 0; disk_errors.due(held)) {
    spdlog::error("block store: {} of inode {} failed: {} ({} more errors since the last logged)",
                  what, id, std::strerror(err), held);
  }
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return Status::kNoSpc;
    case EFBIG:
      return Status::kFBig;
    case EROFS:
      return Status::kRoFs;
    default:
      return Status::kIo;
  }
}

Status fsync_dir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::kIo;
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::kOk : Status::kIo;
}

}  // namespace

FsBlockStore::OpenFile::~OpenFile() {
  ::close(fd);
}

FsBlockStore::FsBlockStore(std::string dir, std::optional<uint64_t> free_floor)
    : dir_(std::move(dir)) {
  std::error_code ec;
  for (unsigned i = 0; i < 256; ++i) {
    std::filesystem::create_directories(subdir_of(i), ec);
    if (ec) throw std::runtime_error("block store " + dir_ + ": " + ec.message());
  }
  space_ = std::make_unique<util::SpaceFloor>(
      dir_, free_floor.value_or(util::SpaceFloor::default_floor(dir_)));
  scan();
}

std::string FsBlockStore::subdir_of(InodeId id) const {
  char sub[4];
  std::snprintf(sub, sizeof sub, "%02x", static_cast<unsigned>(id & 0xff));
  return dir_ + "/" + sub;
}

std::string FsBlockStore::path_of(InodeId id) const {
  char name[20];
  std::snprintf(name, sizeof name, "%016llx", static_cast<unsigned long long>(id));
  return subdir_of(id) + "/" + name;
}

void FsBlockStore::scan() {
  for (unsigned i = 0; i < 256; ++i) {
    const std::string sub = subdir_of(i);
    DIR* d = ::opendir(sub.c_str());
    if (!d) continue;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      char* end = nullptr;
      unsigned long long id = std::strtoull(e->d_name, &end, 16);
      struct stat st {};
      if (*end != '\0' || ::fstatat(dirfd(d), e->d_name, &st, 0) != 0) continue;
      shard(id).bytes.fetch_add(st.st_size, std::memory_order_relaxed);
    }
    ::closedir(d);
  }
}

std::shared_ptr<FsBlockStore::OpenFile> FsBlockStore::open(InodeId id, bool create) {
  Shard& sh = shard(id);
  {
    std::shared_lock lock(sh.mu);
    auto it = sh.open.find(id);
    if (it != sh.open.end()) return it->second;
  }
  const std::string path = path_of(id);
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  bool created = false;
  if (fd < 0 && errno == ENOENT && create) {
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    created = fd >= 0;
  }
  if (fd < 0) return nullptr;
  auto f = std::make_shared<OpenFile>(fd);
  struct stat st {};
  if (::fstat(fd, &st) == 0) f->length.store(static_cast<uint64_t>(st.st_size));
  if (created) subdirs_[id & 0xff].created.fetch_add(1, std::memory_order_acq_rel);
  std::lock_guard lock(sh.mu);
  // Another thread may have opened it meanwhile: one descriptor per file in the cache.
  auto [it, inserted] = sh.open.try_emplace(id, f);
  if (!inserted) return it->second;
  if (sh.open.size() > kOpenPerShard) {
    // Drop another file's descriptor; users holding it keep it open until they are done.
    for (auto victim = sh.open.begin(); victim != sh.open.end(); ++victim) {
      if (victim->first != id) {
        sh.open.erase(victim);
        break;
      }
    }
  }
  return f;
}

void FsBlockStore::set_length(InodeId id, OpenFile& f, uint64_t length) {
  uint64_t old = f.length.exchange(length, std::memory_order_relaxed);
  shard(id).bytes.fetch_add(static_cast<int64_t>(length) - static_cast<int64_t>(old),
                            std::memory_order_relaxed);
}

void FsBlockStore::grow_to(InodeId id, OpenFile& f, uint64_t end) {
  uint64_t cur = f.length.load(std::memory_order_relaxed);
  while (end > cur) {
    if (f.length.compare_exchange_weak(cur, end, std::memory_order_relaxed)) {
      shard(id).bytes.fetch_add(static_cast<int64_t>(end - cur), std::memory_order_relaxed);
      return;
    }
  }
}

Status FsBlockStore::read(InodeId id, uint64_t offset, size_t length, ReadBuffer& out) {
  if (length == 0) return Status::kOk;
  std::shared_ptr<uint8_t[]> buf(new (std::nothrow) uint8_t[length]);
  if (!buf) return Status::kNoSpc;
  size_t got = 0;
  if (auto f = open(id, false)) {
    while (got < length) {
      ssize_t n = ::pread(f->fd, buf.get() + got, length - got, static_cast<off_t>(offset + got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return from_errno(errno, "read", id);
      if (n == 0) break;  // past the stored end: the rest reads as zeros
      got += static_cast<size_t>(n);
    }
  } else if (errno != ENOENT) {
    return from_errno(errno, "open", id);
  }
  std::memset(buf.get() + got, 0, length - got);
  out.pieces.push_back(xdr::DataRef{std::span<const uint8_t>(buf.get(), length), buf});
  return Status::kOk;
}

Status FsBlockStore::write(InodeId id, uint64_t offset, std::span<const uint8_t> data) {
  if (data.empty()) return Status::kOk;
  if (offset + data.size() < offset || offset + data.size() > uint64_t{INT64_MAX}) {
    return Status::kFBig;
  }
  auto f = open(id, true);
  if (!f) return from_errno(errno, "open", id);
  // Only bytes past the end take new space (holes aside); an overwrite in place goes through
  // on a full disk.
  const uint64_t end = offset + data.size();
  const uint64_t length = f->length.load(std::memory_order_relaxed);
  if (end > length && !space_->admit(end - std::max(offset, length))) {
    if (uint64_t held = 0; disk_errors.due(held)) {
      spdlog::warn(
          "block store: write of inode {} refused: under {} bytes free on {} ({} more "
          "errors since the last logged)",
          id, space_->floor(), dir_, held);
    }
    return Status::kNoSpc;
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(f->fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      // A partial write leaves the file longer than before; the metadata does not claim it,
      // and the next recovery trims it.
      struct stat st {};
      if (::fstat(f->fd, &st) == 0) set_length(id, *f, static_cast<uint64_t>(st.st_size));
      return from_errno(err, "write", id);
    }
    done += static_cast<size_t>(n);
  }
  grow_to(id, *f, offset + data.size());
  return Status::kOk;
}

Status FsBlockStore::truncate(InodeId id, uint64_t size) {
  auto f = open(id, size > 0);
  if (!f) return errno == ENOENT ? Status::kOk : from_errno(errno, "open", id);
  if (::ftruncate(f->fd, static_cast<off_t>(size)) != 0) return from_errno(errno, "truncate", id);
  set_length(id, *f, size);
  return Status::kOk;
}

Status FsBlockStore::remove(InodeId id) {
  Shard& sh = shard(id);
  uint64_t length = 0;
  {
    std::lock_guard lock(sh.mu);
    auto it = sh.open.find(id);
    if (it != sh.open.end()) {
      length = it->second->length.load(std::memory_order_relaxed);
      sh.open.erase(it);
    } else {
      struct stat st {};
      if (::stat(path_of(id).c_str(), &st) == 0) length = static_cast<uint64_t>(st.st_size);
    }
    if (::unlink(path_of(id).c_str()) != 0 && errno != ENOENT) {
      return from_errno(errno, "remove", id);
    }
  }
  sh.bytes.fetch_sub(static_cast<int64_t>(length), std::memory_order_relaxed);
  return Status::kOk;
}

Status FsBlockStore::sync(InodeId id) {
  auto f = open(id, false);
  if (!f) return errno == ENOENT ? Status::kOk : from_errno(errno, "open", id);
  if (::fdatasync(f->fd) != 0) return from_errno(errno, "sync", id);
  return sync_entries(id);
}

Status FsBlockStore::sync_entries(InodeId id) {
  Subdir& sub = subdirs_[id & 0xff];
  const uint64_t want = sub.created.load(std::memory_order_acquire);
  std::lock_guard lock(sub.mu);
  if (sub.synced >= want) return Status::kOk;
  const uint64_t upto = sub.created.load(std::memory_order_acquire);
  if (fsync_dir(subdir_of(id)) != Status::kOk) return from_errno(EIO, "directory sync", id);
  sub.synced = upto;
  return Status::kOk;
}

Result<uint64_t> FsBlockStore::stored_length(InodeId id) {
  struct stat st {};
  if (::stat(path_of(id).c_str(), &st) != 0) {
    if (errno == ENOENT) return uint64_t{0};
    return from_errno(errno, "stat", id);
  }
  return static_cast<uint64_t>(st.st_size);
}

uint64_t FsBlockStore::space_used(InodeId id) {
  struct stat st {};
  if (::stat(path_of(id).c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

uint64_t FsBlockStore::total_bytes_used() {
  int64_t total = 0;
  for (const Shard& sh : shards_)
    total += sh.bytes.load(std::memory_order_relaxed);
  return total < 0 ? 0 : static_cast<uint64_t>(total);
}

}  // namespace dfs::vfs
