#include "vfs/pseudo_file_system.h"

#include <sstream>

namespace dfs::vfs {

PseudoFileSystem::PseudoFileSystem(uint64_t fsid) : fsid_(fsid) {
  Dir root{"", kRootId, {}, {}};
  root.attrs = make_attrs(kRootId);
  dirs_.emplace(kRootId, std::move(root));
}

Attributes PseudoFileSystem::make_attrs(InodeId id) const {
  Attributes a;
  a.id = id;
  a.type = FileType::kDirectory;
  a.mode = 0555;
  a.nlink = 2;
  a.size = 4096;
  a.atime = a.mtime = a.ctime = a.btime = now();
  a.change = change_;
  a.generation = 0;
  return a;
}

InodeId PseudoFileSystem::ensure_path(const std::string& path) {
  std::unique_lock lock(mu_);
  InodeId cur = kRootId;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    auto& dir = dirs_.at(cur);
    auto it = dir.children.find(part);
    if (it != dir.children.end()) {
      cur = it->second;
      continue;
    }
    InodeId id = next_id_++;
    dir.children.emplace(part, id);
    dir.attrs.nlink++;
    dir.attrs.change = ++change_;
    Dir child{part, cur, {}, make_attrs(id)};
    dirs_.emplace(id, std::move(child));
    cur = id;
  }
  return cur;
}

bool PseudoFileSystem::has_children(InodeId id) const {
  std::shared_lock lock(mu_);
  auto it = dirs_.find(id);
  return it != dirs_.end() && !it->second.children.empty();
}

void PseudoFileSystem::remove_dir(InodeId id) {
  std::unique_lock lock(mu_);
  auto it = dirs_.find(id);
  if (it == dirs_.end() || id == kRootId || !it->second.children.empty()) return;
  auto& parent = dirs_.at(it->second.parent);
  parent.children.erase(it->second.name);
  parent.attrs.nlink--;
  parent.attrs.change = ++change_;
  dirs_.erase(it);
}

Result<Attributes> PseudoFileSystem::getattr(InodeId id) {
  std::shared_lock lock(mu_);
  auto it = dirs_.find(id);
  if (it == dirs_.end()) return Status::kStale;
  return it->second.attrs;
}

Result<uint32_t> PseudoFileSystem::access(const Identity&, InodeId id, uint32_t requested) {
  std::shared_lock lock(mu_);
  if (!dirs_.count(id)) return Status::kStale;
  return requested & (kAccessRead | kAccessExecute);
}

Result<InodeId> PseudoFileSystem::lookup(const Identity&, InodeId dir, std::string_view name) {
  std::shared_lock lock(mu_);
  auto it = dirs_.find(dir);
  if (it == dirs_.end()) return Status::kStale;
  auto c = it->second.children.find(name);
  if (c == it->second.children.end()) return Status::kNoEnt;
  return c->second;
}

Result<InodeId> PseudoFileSystem::parent(InodeId dir) {
  std::shared_lock lock(mu_);
  auto it = dirs_.find(dir);
  if (it == dirs_.end()) return Status::kStale;
  return it->second.parent;
}

Result<FileSystem::Listing> PseudoFileSystem::readdir(const Identity&, InodeId dir, uint64_t cookie,
                                                      size_t max_entries) {
  std::shared_lock lock(mu_);
  auto it = dirs_.find(dir);
  if (it == dirs_.end()) return Status::kStale;
  // Cookies are positions (3 + index): the pseudo tree changes only by administration.
  Listing out;
  uint64_t pos = 0;
  if (cookie != 0) {
    if (cookie < 3) return Status::kInval;
    pos = cookie - 2;
  }
  uint64_t i = 0;
  for (const auto& [name, id] : it->second.children) {
    if (i++ < pos) continue;
    if (out.entries.size() == max_entries) return out;
    out.entries.push_back({{name, id, i + 2}, dirs_.at(id).attrs});
  }
  out.eof = true;
  return out;
}

Result<ReadResult> PseudoFileSystem::read(InodeId id, uint64_t, size_t) {
  std::shared_lock lock(mu_);
  return dirs_.count(id) ? Status::kIsDir : Status::kStale;
}

}  // namespace dfs::vfs
