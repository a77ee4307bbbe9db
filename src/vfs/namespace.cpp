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

namespace {

// A handle to what `p` points at with a control block of its own, keeping the original alive.
template <class T>
std::shared_ptr<T> private_handle(const std::shared_ptr<T>& p) {
  if (!p) return nullptr;
  return std::shared_ptr<T>(p.get(), [keep = p](T*) {});
}

}  // namespace

Namespace::Namespace()
    : pseudo_(std::make_shared<PseudoFileSystem>(0)), table_(Table{pseudo_, {}, {}, 0}, localize) {}

Namespace::Table Namespace::localize(const Table& t) {
  Table out = t;
  out.pseudo = private_handle(t.pseudo);
  for (auto& [i, s] : out.shares) {
    s.fs = private_handle(s.fs);
    s.options = private_handle(s.options);  // read by every operation's access check
  }
  return out;
}

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
  std::lock_guard lock(write_mu_);
  Table t = *table_.get_shared();
  for (const auto& [i, s] : t.shares) {
    if (s.info.path == *norm) return Status::kExist;
  }
  if (index == 0) index = next_index_;
  if (t.shares.count(index)) return Status::kExist;
  next_index_ = std::max(next_index_, index + 1);
  Share share{{index, *norm, options},
              std::make_shared<const ShareOptions>(options),
              std::move(fs),
              kInvalidInode};
  if (*norm == "/") {
    t.root_share = index;
  } else {
    share.junction = pseudo_->ensure_path(*norm);
    t.junctions[share.junction] = index;
  }
  t.shares.emplace(index, std::move(share));
  table_.set(std::move(t));
  return index;
}

Status Namespace::remove_share(const std::string& path) {
  auto norm = normalise(path);
  if (!norm) return Status::kInval;
  std::lock_guard lock(write_mu_);
  Table t = *table_.get_shared();
  for (auto it = t.shares.begin(); it != t.shares.end(); ++it) {
    if (it->second.info.path != *norm) continue;
    if (it->first == t.root_share) t.root_share = 0;
    InodeId junction = it->second.junction;
    if (junction != kInvalidInode) {
      t.junctions.erase(junction);
      pseudo_->prune(junction, [&](InodeId id) { return t.junctions.count(id) > 0; });
    }
    t.shares.erase(it);
    table_.set(std::move(t));
    return Status::kOk;
  }
  return Status::kNoEnt;
}

std::vector<ShareInfo> Namespace::shares() const {
  auto t = table_.get();
  std::vector<ShareInfo> out;
  for (const auto& [i, s] : t->shares)
    out.push_back(s.info);
  return out;
}

std::shared_ptr<const ShareOptions> Namespace::share_options(uint32_t fs_index) const {
  auto t = table_.get();
  auto it = t->shares.find(fs_index);
  if (it == t->shares.end()) return nullptr;
  return it->second.options;
}

Status Namespace::set_share_options(uint32_t fs_index, ShareOptions options) {
  std::lock_guard lock(write_mu_);
  Table t = *table_.get_shared();
  auto it = t.shares.find(fs_index);
  if (it == t.shares.end()) return Status::kNoEnt;
  it->second.info.options = options;
  it->second.options = std::make_shared<const ShareOptions>(std::move(options));
  table_.set(std::move(t));
  return Status::kOk;
}

Node Namespace::root() const {
  auto t = table_.get();
  if (t->root_share) {
    const auto& s = t->shares.at(t->root_share);
    return {s.fs, t->root_share, s.fs->root()};
  }
  return {t->pseudo, kPseudoIndex, t->pseudo->root()};
}

Result<Node> Namespace::resolve(const FileHandle& fh) const {
  Node node;
  {
    auto t = table_.get();
    if (fh.fs_index == kPseudoIndex) {
      node = {t->pseudo, kPseudoIndex, fh.inode};
    } else {
      auto it = t->shares.find(fh.fs_index);
      if (it == t->shares.end()) return Status::kStale;
      node = {it->second.fs, fh.fs_index, fh.inode};
    }
  }
  auto attrs = node.fs->getattr(fh.inode);
  if (!attrs.ok() || attrs->generation != fh.generation) return Status::kStale;
  return node;
}

Node Namespace::cross(const Node& node) const {
  if (node.fs_index != kPseudoIndex) return node;
  auto t = table_.get();
  auto j = t->junctions.find(node.inode);
  if (j == t->junctions.end()) return node;
  const auto& s = t->shares.at(j->second);
  return {s.fs, j->second, s.fs->root()};
}

Result<Node> Namespace::lookup(const Identity& who, const Node& dir, std::string_view name) const {
  auto child = dir.fs->lookup(who, dir.inode, name);
  if (!child.ok()) return child.status();
  return cross(Node{dir.fs, dir.fs_index, *child});
}

Result<Node> Namespace::parent(const Node& dir) const {
  if (dir.fs_index != kPseudoIndex && dir.inode == dir.fs->root()) {
    auto t = table_.get();
    if (dir.fs_index == t->root_share) return dir;  // the root's parent is itself
    auto it = t->shares.find(dir.fs_index);
    if (it == t->shares.end()) return Status::kStale;
    auto up = pseudo_->parent(it->second.junction);
    if (!up.ok()) return up.status();
    return Node{t->pseudo, kPseudoIndex, *up};
  }
  auto p = dir.fs->parent(dir.inode);
  if (!p.ok()) return p.status();
  return Node{dir.fs, dir.fs_index, *p};
}

InodeId Namespace::mounted_on(const Node& node) const {
  if (node.fs_index == kPseudoIndex || node.inode != node.fs->root()) return node.inode;
  auto t = table_.get();
  auto it = t->shares.find(node.fs_index);
  if (it == t->shares.end() || it->second.junction == kInvalidInode) return node.inode;
  return it->second.junction;
}

std::shared_ptr<FileSystem> Namespace::file_system(uint32_t fs_index) const {
  auto t = table_.get();
  if (fs_index == kPseudoIndex) return t->pseudo;
  auto it = t->shares.find(fs_index);
  return it == t->shares.end() ? nullptr : it->second.fs;
}

}  // namespace dfs::vfs
