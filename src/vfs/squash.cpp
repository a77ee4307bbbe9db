#include "vfs/squash.h"

#include <algorithm>

namespace dfs::vfs {

Identity squash(const ShareOptions& o, Identity who) {
  if (o.all_squash) {
    who.uid = o.anon_uid;
    who.gid = o.anon_gid;
    who.groups.clear();
    return who;
  }
  if (!o.root_squash) return who;
  // Group 0 grants what root's group can read and write (often more than a user's), so it
  // goes with uid 0; squashing only uid 0 would leave a client free to claim gid 0.
  if (who.uid == 0) who.uid = o.anon_uid;
  if (who.gid == 0) who.gid = o.anon_gid;
  std::replace(who.groups.begin(), who.groups.end(), uint32_t{0}, o.anon_gid);
  return who;
}

void give_empty_root_to_anon(FileSystem& fs, const ShareOptions& o) {
  if (!squashes(o) || fs.read_only()) return;
  Identity root;
  root.uid = root.gid = 0;
  auto listing = fs.readdir(root, fs.root(), 0, 1);
  // A root with files in it belongs to whoever made them; only a fresh one is handed over.
  if (!listing.ok() || !listing->entries.empty()) return;
  SetAttributes set;
  set.uid = o.anon_uid;
  set.gid = o.anon_gid;
  fs.setattr(root, fs.root(), set);
}

std::string describe_squash(const ShareOptions& o) {
  std::string anon = std::to_string(o.anon_uid) + ":" + std::to_string(o.anon_gid);
  if (o.all_squash) return "every user squashed to " + anon;
  if (o.root_squash) return "root squashed to " + anon;
  return "client root is root (no squashing)";
}

}  // namespace dfs::vfs
