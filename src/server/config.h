#pragma once
// The daemon's configuration: a YAML file, then command-line flags over it. Every field has a
// working default, so `dfs` with no arguments serves one in-memory export.

#include <cstdint>
#include <string>
#include <vector>

#include "nfs4/settings.h"

namespace dfs::server {

struct ShareConfig {
  std::string path = "/export";
  std::string metadata_store = "memory";
  std::string block_store = "memory";
  bool read_only = false;
  bool root_squash = false;
  uint64_t capacity_bytes = uint64_t{1} << 40;
};

struct Config {
  std::string listen_address = "0.0.0.0";
  uint16_t port = 12049;
  std::string log_level = "info";
  unsigned reactor_threads = 0;
  bool rpcbind_register = true;  // announce the NFS program to a local rpcbind, if one runs
  nfs4::Settings nfs;
  std::vector<ShareConfig> shares{ShareConfig{}};
};

// Reads a YAML file into `out` (fields it does not name keep their values); throws
// std::runtime_error with a message naming the file and the problem.
void load_config_file(const std::string& path, Config& out);

}  // namespace dfs::server
