#include "vfs/namespace.h"

#include <algorithm>
#include <sstream>

namespace dfs::vfs {

bool ShareOptions::admits(const std::string& peer, uint32_t uid) const {
  if (!allowed_uids.empty() &&
      std::find(allowed_uids.begin(), allowed_uids.end(), uid) == allowed_uids.end()) {
    return false;
  }
  if (allowed_hosts.empty()) return true;
  auto ip = util::parse_address(peer);
  if (!ip) return false;
  return std::any_of(allowed_hosts.begin(), allowed_hosts.end(),
                     [&](const util::Cidr& c) { return c.contains(*ip); });
}

Namespace::Namespace() : pseudo_(std::make_shared<PseudoFileSystem>(0)) {}

std::optional<std::string> Namespace::normalise(const std::string& path) {
  if (path.empty() || path[0] != '/') return std::nullopt;
  std::string out;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    if (part == "." || part == ".." || part.size() > kMaxNameLength) return std::nullopt;
    out += "/" + part;
  }
  return out.empty() ? "/" : out;
}

Result<uint32_t> Namespace::add_share(const std::string& path, std::shared_ptr<FileSystem> fs,
                                      ShareOptions options, uint32_t index) {
  auto norm = normalise(path);
  if (!norm || !fs) return Status::kInval;
  std::unique_lock lock(mu_);
  for (const auto& [i, s] : shares_) {
    if (s.info.path == *norm) return Status::kExist;
  }
  if (index == 0) index = next_index_;
  if (shares_.count(index)) return Status::kExist;
  next_index_ = std::max(next_index_, index + 1);
  Share share{{index, *norm, options},
              std::make_shared<const ShareOptions>(options),
              std::move(fs),
              kInvalidInode};
  if (*norm == "/") {
    root_share_ = index;
  } else {
    share.junction = pseudo_->ensure_path(*norm);
    junctions_[share.junction] = index;
  }
  shares_.emplace(index, std::move(share));
  return index;
}

Status Namespace::remove_share(const std::string& path) {
  auto norm = normalise(path);
  if (!norm) return Status::kInval;
  std::unique_lock lock(mu_);
  for (auto it = shares_.begin(); it != shares_.end(); ++it) {
    if (it->second.info.path != *norm) continue;
    if (it->first == root_share_) root_share_ = 0;
    InodeId junction = it->second.junction;
    if (junction != kInvalidInode) {
      junctions_.erase(junction);
      pseudo_->prune(junction, [&](InodeId id) { return junctions_.count(id) > 0; });
    }
    shares_.erase(it);
    return Status::kOk;
  }
  return Status::kNoEnt;
}

std::vector<ShareInfo> Namespace::shares() const {
  std::shared_lock lock(mu_);
  std::vector<ShareInfo> out;
  for (const auto& [i, s] : shares_)
    out.push_back(s.info);
  return out;
}

std::shared_ptr<const ShareOptions> Namespace::share_options(uint32_t fs_index) const {
  std::shared_lock lock(mu_);
  auto it = shares_.find(fs_index);
  if (it == shares_.end()) return nullptr;
  return it->second.options;
}

Status Namespace::set_share_options(uint32_t fs_index, ShareOptions options) {
  std::unique_lock lock(mu_);
  auto it = shares_.find(fs_index);
  if (it == shares_.end()) return Status::kNoEnt;
  it->second.info.options = options;
  it->second.options = std::make_shared<const ShareOptions>(std::move(options));
  return Status::kOk;
}

Node Namespace::root() const {
  std::shared_lock lock(mu_);
  if (root_share_) {
    const auto& s = shares_.at(root_share_);
    return {s.fs, root_share_, s.fs->root()};
  }
  return {pseudo_, kPseudoIndex, pseudo_->root()};
}

Result<Node> Namespace::resolve(const FileHandle& fh) const {
  Node node;
  {
    std::shared_lock lock(mu_);
    if (fh.fs_index == kPseudoIndex) {
      node = {pseudo_, kPseudoIndex, fh.inode};
    } else {
      auto it = shares_.find(fh.fs_index);
      if (it == shares_.end()) return Status::kStale;
      node = {it->second.fs, fh.fs_index, fh.inode};
    }
  }
  auto attrs = node.fs->getattr(fh.inode);
  if (!attrs.ok() || attrs->generation != fh.generation) return Status::kStale;
  return node;
}

Node Namespace::cross(const Node& node) const {
  if (node.fs_index != kPseudoIndex) return node;
  std::shared_lock lock(mu_);
  auto j = junctions_.find(node.inode);
  if (j == junctions_.end()) return node;
  const auto& s = shares_.at(j->second);
  return {s.fs, j->second, s.fs->root()};
}

Result<Node> Namespace::lookup(const Identity& who, const Node& dir, std::string_view name) const {
  auto child = dir.fs->lookup(who, dir.inode, name);
  if (!child.ok()) return child.status();
  return cross(Node{dir.fs, dir.fs_index, *child});
}

Result<Node> Namespace::parent(const Node& dir) const {
  if (dir.fs_index != kPseudoIndex && dir.inode == dir.fs->root()) {
    std::shared_lock lock(mu_);
    if (dir.fs_index == root_share_) return dir;  // the root's parent is itself
    auto it = shares_.find(dir.fs_index);
    if (it == shares_.end()) return Status::kStale;
    auto up = pseudo_->parent(it->second.junction);
    if (!up.ok()) return up.status();
    return Node{pseudo_, kPseudoIndex, *up};
  }
  auto p = dir.fs->parent(dir.inode);
  if (!p.ok()) return p.status();
  return Node{dir.fs, dir.fs_index, *p};
}

InodeId Namespace::mounted_on(const Node& node) const {
  if (node.fs_index == kPseudoIndex || node.inode != node.fs->root()) return node.inode;
  std::shared_lock lock(mu_);
  auto it = shares_.find(node.fs_index);
  if (it == shares_.end() || it->second.junction == kInvalidInode) return node.inode;
  return it->second.junction;
}

std::shared_ptr<FileSystem> Namespace::file_system(uint32_t fs_index) const {
  if (fs_index == kPseudoIndex) return pseudo_;
  std::shared_lock lock(mu_);
  auto it = shares_.find(fs_index);
  return it == shares_.end() ? nullptr : it->second.fs;
}

}  // namespace dfs::vfs
