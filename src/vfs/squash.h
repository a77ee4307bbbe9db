#pragma once
// Identity squashing, as knfsd does it: what a share lets a client's AUTH_SYS credentials
// stand for. Credentials are the client's word, so an export that trusts uid 0 hands every
// file to anyone who can send a packet; squashing maps such callers to an anonymous user.

#include <string>

#include "vfs/file_system.h"
#include "vfs/namespace.h"

namespace dfs::vfs {

// The identity a caller acts as in a share with options `o`:
//  - all_squash: uid and gid become anon_uid/anon_gid, and the group list is dropped;
//  - root_squash: uid 0 becomes anon_uid, gid 0 anon_gid, and every 0 in the group list
//    anon_gid (each independently: uid 1000 with gid 0 keeps uid 1000 and loses group 0);
//  - neither: unchanged.
Identity squash(const ShareOptions& o, Identity who);

// Whether the share maps some callers to the anonymous user.
inline bool squashes(const ShareOptions& o) {
  return o.all_squash || o.root_squash;
}

// Gives the root directory of a writable, still empty share that squashes to the anonymous
// user, so the squashed callers (client root above all) can create files there; an export
// no client can write to would otherwise be the price of the secure default.
void give_empty_root_to_anon(FileSystem& fs, const ShareOptions& o);

// "root squashed to 65534:65534", "every user squashed to 1234:5678", "client root is root"
// (for log lines and start-up messages).
std::string describe_squash(const ShareOptions& o);

}  // namespace dfs::vfs
