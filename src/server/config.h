#pragma once
// The daemon's configuration: a YAML file, then command-line flags over it. Every field has a
// working default, so `dfs` with no arguments serves one durable export (in the data directory).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nfs4/settings.h"

namespace dfs::server {

// One export. Client root is squashed unless the share says `root_squash: false`: the
// embedded default share too, since it serves every address the server listens on.
// Its stores default to the durable built-in ones (RocksDB metadata, content in files), kept
// under <data_dir>/shares/<path>; `metadata: memory` and `blocks: memory` make a scratch
// share, and the name of a configured store puts the data where that store says.
struct ShareConfig {
  std::string path = "/export";
  std::string metadata_store = "rocksdb";
  std::string block_store = "fs";
  bool read_only = false;
  bool root_squash = true;  // uid 0, gid 0 and group 0 become anon_uid/anon_gid
  bool all_squash = false;  // every caller becomes anon_uid/anon_gid
  uint32_t anon_uid = 65534;
  uint32_t anon_gid = 65534;
  std::vector<std::string> allowed_hosts;  // addresses or CIDR blocks; empty: any host
  uint64_t capacity_bytes = uint64_t{1} << 40;
};

// A named store from the configuration file (control/store_catalog.h): a share names it in
// `metadata:` or `blocks:`. Durable types need a directory; each share that uses the store
// gets a directory of its own under it.
struct StoreConfig {
  std::string name;
  std::string type;  // metadata: rocksdb, memory; blocks: fs, memory
  std::string directory;
};

struct ListenerConfig {
  bool enabled = true;
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  // The API only: PEM certificate (chain) and private key; with both it serves HTTPS only.
  std::string tls_cert;
  std::string tls_key;
};

struct Config {
  // Where the control database and the token signing secret live; empty: /var/lib/dittofs
  // for root, else $XDG_DATA_HOME/dittofs (or ~/.local/share/dittofs).
  std::string data_dir;
  ListenerConfig api{true, "127.0.0.1", 8080};
  ListenerConfig metrics{true, "127.0.0.1", 9090};
  // argon2id cost for control-plane passwords: "interactive" (libsodium's interactive
  // limits) or "minimal" (for tests only).
  std::string password_cost = "interactive";
  // NFS listens on every one of these addresses (IPv4 or IPv6), all with `port`: one server
  // reachable by several addresses, which a client can trunk over (server_owner says so).
  std::vector<std::string> listen_addresses{"0.0.0.0"};
  uint16_t port = 12049;
  std::string log_level = "info";
  unsigned reactor_threads = 0;
  bool rpcbind_register = true;  // announce the NFS program to a local rpcbind, if one runs
  nfs4::Settings nfs;
  // Free space the durable stores keep on their file systems (util/space_floor.h): the fs
  // block store refuses data that would leave less, the RocksDB store refuses new names
  // below half of it, so the removals that free a full disk always have room. Unset: 5% of
  // each file system, at most 64 MiB; 0: no floor.
  std::optional<uint64_t> free_space_floor_bytes;
  std::vector<StoreConfig> metadata_stores;
  std::vector<StoreConfig> block_stores;
  std::vector<ShareConfig> shares{ShareConfig{}};
};

// Reads a YAML file into `out` (fields it does not name keep their values); throws
// std::runtime_error with a message naming the file and the problem.
void load_config_file(const std::string& path, Config& out);

}  // namespace dfs::server
