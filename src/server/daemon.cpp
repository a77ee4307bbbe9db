#include "server/daemon.h"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "rpc/rpcbind.h"
#include "vfs/block/memory_store.h"
#include "vfs/metadata/memory_store.h"
#include "vfs/store_file_system.h"

namespace dfs::server {

Daemon::Daemon(Config config) : config_(std::move(config)), settings_(config_.nfs) {
  service_ = std::make_unique<nfs4::Nfs4Service>(ns_, settings_);
  dispatcher_.add_program(std::make_shared<nfs4::Nfs4Program>(*service_));
  rpc::TcpServerOptions opts;
  opts.address = config_.listen_address;
  opts.port = config_.port;
  opts.reactor_threads = config_.reactor_threads;
  opts.max_record_size = config_.nfs.max_record_size;
  tcp_ = std::make_unique<rpc::TcpServer>(opts, dispatcher_);
}

Daemon::~Daemon() { stop(); }

std::shared_ptr<vfs::FileSystem> Daemon::make_file_system(const ShareConfig& share,
                                                          uint64_t fsid) {
  std::shared_ptr<vfs::MetadataStore> meta;
  std::shared_ptr<vfs::BlockStore> blocks;
  if (share.metadata_store == "memory") {
    meta = std::make_shared<vfs::MemoryMetadataStore>();
  } else {
    throw std::runtime_error("share " + share.path + ": unknown metadata store '" +
                             share.metadata_store + "' (available: memory)");
  }
  if (share.block_store == "memory") {
    blocks = std::make_shared<vfs::MemoryBlockStore>();
  } else {
    throw std::runtime_error("share " + share.path + ": unknown block store '" +
                             share.block_store + "' (available: memory)");
  }
  return std::make_shared<vfs::StoreFileSystem>(fsid, meta, blocks, share.read_only,
                                                share.capacity_bytes);
}

void Daemon::start() {
  for (const auto& share : config_.shares) {
    // File system ids: the pseudo-root is 0; shares count up from a base no real device
    // number uses, so clients never confuse them.
    uint64_t fsid = 0x64667300 + ns_.shares().size() + 1;
    vfs::ShareOptions opts;
    opts.read_only = share.read_only;
    opts.root_squash = share.root_squash;
    auto idx = ns_.add_share(share.path, make_file_system(share, fsid), opts);
    if (!idx.ok()) {
      throw std::runtime_error("share " + share.path + ": " + vfs::to_string(idx.status()));
    }
    spdlog::info("share {} ready (metadata: {}, blocks: {})", share.path, share.metadata_store,
                 share.block_store);
  }
  service_->state.start();
  tcp_->start();
  started_ = true;
  spdlog::info("NFSv4.1 listening on {}", tcp_->listen_address());
  if (config_.rpcbind_register) {
    registered_ = rpc::rpcbind_set(nfs4::kProgram, nfs4::kVersion, tcp_->port());
    if (registered_) spdlog::info("registered NFS version 4 with the local rpcbind");
  }
}

void Daemon::stop() {
  if (!started_) return;
  started_ = false;
  if (registered_) rpc::rpcbind_unset(nfs4::kProgram, nfs4::kVersion);
  tcp_->stop();
  service_->state.stop();
}

}  // namespace dfs::server
