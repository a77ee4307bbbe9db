#include "server/daemon.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "control/password.h"
#include "rpc/rpcbind.h"
#include "server/exposure.h"
#include "util/build_info.h"
#include "util/cidr.h"
#include "vfs/block/fs_store.h"
#include "vfs/block/memory_store.h"
#include "vfs/metadata/memory_store.h"
#include "vfs/metadata/rocksdb_store.h"
#include "vfs/squash.h"
#include "vfs/store_file_system.h"

namespace dfs::server {
namespace {

// Config-file shares take namespace indexes from 1; shares created through the API from
// kApiShareBase, so editing the file never renumbers an API share (handles carry the index).
constexpr uint32_t kApiShareBase = 1000;

std::string default_data_dir() {
  if (::geteuid() == 0) return "/var/lib/dittofs";
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    return std::string(xdg) + "/dittofs";
  }
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.local/share/dittofs";
}

// The token signing secret: generated once, kept in a file only its owner can read.
std::string load_or_create_secret(const std::string& path) {
  if (std::ifstream in(path, std::ios::binary); in) {
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (s.size() >= 32) return s;
  }
  std::string secret = control::random_token(48);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + path);
  ::fchmod(fd, 0600);
  bool ok = ::write(fd, secret.data(), secret.size()) == static_cast<ssize_t>(secret.size());
  ok = ::fsync(fd) == 0 && ok;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + path);
  return secret;
}

ShareConfig to_share_config(const control::ShareRecord& r) {
  ShareConfig sc;
  sc.path = r.path;
  sc.metadata_store = r.metadata_store;
  sc.block_store = r.block_store;
  sc.read_only = r.read_only;
  sc.root_squash = r.root_squash;
  return sc;
}

// The namespace options of a config-file share; throws std::invalid_argument for a host
// that is not an address or CIDR block (a Config built in code is not checked on load).
vfs::ShareOptions options_for(const ShareConfig& share) {
  vfs::ShareOptions o;
  o.read_only = share.read_only;
  o.root_squash = share.root_squash;
  o.all_squash = share.all_squash;
  o.anon_uid = share.anon_uid;
  o.anon_gid = share.anon_gid;
  for (const auto& h : share.allowed_hosts) {
    auto c = util::Cidr::parse(h);
    if (!c) throw std::invalid_argument("'" + h + "' is not an address or CIDR block");
    o.allowed_hosts.push_back(*c);
  }
  return o;
}

}  // namespace

Daemon::Daemon(Config config) : config_(std::move(config)), settings_(config_.nfs) {
  service_ = std::make_unique<nfs4::Nfs4Service>(ns_, settings_);
  dispatcher_.add_program(std::make_shared<nfs4::Nfs4Program>(*service_));
  // Replies on the clients' connections answer our callbacks (the backchannel).
  dispatcher_.set_reply_sink(
      [this](const std::shared_ptr<rpc::Connection>& conn, uint32_t xid,
             std::span<const uint8_t> record) { service_->outbound.on_reply(conn, xid, record); });
  rpc::TcpServerOptions opts;
  opts.addresses = config_.listen_addresses;
  opts.max_connections = config_.nfs.max_connections;
  opts.idle_timeout_s = config_.nfs.idle_timeout;
  opts.receive_budget = uint64_t{config_.nfs.receive_budget_mb} << 20;
  opts.port = config_.port;
  opts.reactor_threads = config_.reactor_threads;
  opts.max_record_size = config_.nfs.max_record_size;
  tcp_ = std::make_unique<rpc::TcpServer>(opts, dispatcher_);
  // Memory the in-memory block stores hold beyond their files' data: the chunk pool keeps
  // freed chunks for reuse (docs/architecture.md), which an operator sees as RSS.
  const auto& pool = vfs::ChunkPool::process_pool();
  registry_.computed_gauge("dittofs_block_pool_mapped_bytes",
                           "Memory the block chunk pool has mapped from the kernel.",
                           [pool] { return static_cast<double>(pool->mapped_bytes()); });
  registry_.computed_gauge("dittofs_block_pool_free_bytes",
                           "Part of the chunk pool's memory free for reuse (not file data).",
                           [pool] { return static_cast<double>(pool->free_bytes()); });
}

Daemon::~Daemon() {
  stop();
}

std::shared_ptr<vfs::FileSystem> Daemon::make_file_system(const ShareConfig& share, uint64_t fsid) {
  using control::no_such_store;
  using control::StoreKind;
  auto meta_store = stores_->find(StoreKind::kMetadata, share.metadata_store);
  if (!meta_store) {
    throw std::invalid_argument(no_such_store(StoreKind::kMetadata, share.metadata_store));
  }
  auto block_store = stores_->find(StoreKind::kBlock, share.block_store);
  if (!block_store) {
    throw std::invalid_argument(no_such_store(StoreKind::kBlock, share.block_store));
  }
  std::shared_ptr<vfs::MetadataStore> meta;
  std::shared_ptr<vfs::BlockStore> blocks;
  try {
    if (meta_store->type == "memory") {
      meta = std::make_shared<vfs::MemoryMetadataStore>();
    } else {
      // rocksdb, the one durable type StoreCatalog lets through.
      auto dir = control::StoreCatalog::share_directory(*meta_store, share.path);
      std::filesystem::create_directories(dir);
      // Half the floor for metadata: creates stop before data does, and the removals and
      // renames that make room always fit (util/space_floor.h).
      std::optional<uint64_t> meta_floor;
      if (const auto floor = config_.free_space_floor_bytes) meta_floor = *floor / 2;
      meta = std::make_shared<vfs::RocksDbMetadataStore>(dir + "/metadata", meta_floor);
    }
    if (block_store->type == "memory") {
      blocks = std::make_shared<vfs::MemoryBlockStore>();
    } else {
      blocks = std::make_shared<vfs::FsBlockStore>(
          control::StoreCatalog::share_directory(*block_store, share.path) + "/blocks",
          config_.free_space_floor_bytes);
    }
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("cannot open the share's stores: ") + e.what());
  }
  if (meta->durable() != blocks->durable()) {
    spdlog::warn(
        "share {}: metadata store '{}' and block store '{}' do not both keep content "
        "across restarts; after a restart the files will be empty",
        share.path, share.metadata_store, share.block_store);
  }
  return std::make_shared<vfs::StoreFileSystem>(fsid, meta, blocks, share.read_only,
                                                share.capacity_bytes);
}

void Daemon::start_control() {
  data_dir_ = config_.data_dir.empty() ? default_data_dir() : config_.data_dir;
  std::error_code ec;
  std::filesystem::create_directories(data_dir_, ec);
  if (ec)
    throw std::runtime_error("cannot create data directory " + data_dir_ + ": " + ec.message());
  ::chmod(data_dir_.c_str(), 0700);
  db_ = std::make_unique<control::ControlDb>(data_dir_ + "/control.db");
  jwt_ = std::make_unique<control::JwtSigner>(load_or_create_secret(data_dir_ + "/jwt.secret"));
  // Who this server is to NFS clients (server_owner, server_scope): kept with the data, so a
  // restart is the same server and a second instance on the host is another one.
  service_->set_instance_id(load_or_create_secret(data_dir_ + "/server.id").substr(0, 32));
  // Who held state, for the grace period of the next start (§8.4.2.1).
  service_->state.set_client_store(
      std::make_unique<nfs4::state::ClientStore>(data_dir_ + "/clients"));
  auth_ = std::make_unique<control::AuthService>(*db_, *jwt_,
                                                 config_.password_cost == "minimal"
                                                     ? control::PasswordCost::minimal()
                                                     : control::PasswordCost::interactive());
  if (auto pw = auth_->bootstrap(std::getenv("DITTOFS_ADMIN_INITIAL_PASSWORD"))) {
    generated_password_ = *pw;
    // Printed once, on the terminal, not in the log.
    std::fprintf(stderr,
                 "\n  dfs: created user 'admin' with password: %s\n"
                 "  (shown once; set DITTOFS_ADMIN_INITIAL_PASSWORD to choose it)\n\n",
                 pw->c_str());
  }
  settings_service_ =
      std::make_unique<control::SettingsService>(*db_, settings_, [this](const nfs4::Settings& s) {
        tcp_->set_max_record_size(s.max_record_size);
        tcp_->set_limits(s.max_connections, s.idle_timeout, uint64_t{s.receive_budget_mb} << 20);
      });
  settings_service_->load();
  stores_ = std::make_unique<control::StoreCatalog>(*db_, data_dir_);
  for (auto [kind, list] : {std::pair{control::StoreKind::kMetadata, &config_.metadata_stores},
                            std::pair{control::StoreKind::kBlock, &config_.block_stores}}) {
    for (const auto& sc : *list) {
      try {
        stores_->add_config_store(kind, {sc.name, sc.type, sc.directory, ""});
      } catch (const std::invalid_argument& e) {
        throw std::runtime_error(std::string("configuration: ") + e.what());
      }
    }
  }
  shares_ = std::make_unique<control::ShareService>(
      *db_, ns_, *stores_, [this](const control::ShareRecord& r, uint64_t fsid) {
        return make_file_system(to_share_config(r), fsid);
      });
}

void Daemon::start() {
  started_at_ = std::chrono::steady_clock::now();
  start_control();
  uint32_t index = 1;
  for (const auto& share : config_.shares) {
    vfs::ShareOptions opts;
    std::shared_ptr<vfs::FileSystem> fs;
    try {
      opts = options_for(share);
      fs = make_file_system(share, control::ShareService::fsid_for(index));
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error("share " + share.path + ": " + e.what());
    }
    vfs::give_empty_root_to_anon(*fs, opts);
    auto idx = ns_.add_share(share.path, fs, opts, index);
    if (!idx.ok()) {
      throw std::runtime_error("share " + share.path + ": " + vfs::to_string(idx.status()));
    }
    control::ShareRecord rec;
    rec.name = share.path == "/" ? "root" : share.path.substr(share.path.rfind('/') + 1);
    rec.path = share.path;
    rec.index = index;
    rec.metadata_store = share.metadata_store;
    rec.block_store = share.block_store;
    rec.read_only = share.read_only;
    rec.root_squash = share.root_squash;
    rec.all_squash = share.all_squash;
    rec.anon_uid = share.anon_uid;
    rec.anon_gid = share.anon_gid;
    rec.allowed_hosts = share.allowed_hosts;
    shares_->add_config_share(rec);
    spdlog::info("share {} ready (metadata: {}, blocks: {})", share.path, share.metadata_store,
                 share.block_store);
    ++index;
  }
  shares_->set_index_base(kApiShareBase);
  shares_->load();
  // Clients that held state before the restart get grace_period seconds to reclaim it.
  service_->state.begin_grace(std::chrono::seconds(settings_.get()->grace_period),
                              std::chrono::seconds(settings_.get()->lease_time));
  service_->start();
  // Observers are plain pointers read by the reactors: attach before the transport starts.
  nfs_metrics_ = std::make_unique<metrics::NfsMetrics>(registry_, *service_, *tcp_);
  nfs_metrics_->attach();
  tcp_->set_max_record_size(settings_.get()->max_record_size);
  tcp_->set_limits(settings_.get()->max_connections, settings_.get()->idle_timeout,
                   uint64_t{settings_.get()->receive_budget_mb} << 20);
  tcp_->start();
  started_ = true;
  for (const auto& a : tcp_->listen_addresses())
    spdlog::info("NFSv4.1 listening on {}", a);
  for (const auto& line : who_may_mount(shares_->records(), tcp_->listen_addresses()))
    spdlog::info("{}", line);
  spdlog::info("{}", how_to_change_exposure());
  if (config_.rpcbind_register) {
    registered_ = rpc::rpcbind_set(nfs4::kProgram, nfs4::kVersion, tcp_->port());
    if (registered_) spdlog::info("registered NFS version 4 with the local rpcbind");
  }
  if (config_.api.enabled) {
    control::ApiDeps deps{*db_,
                          *auth_,
                          *shares_,
                          *stores_,
                          *settings_service_,
                          service_->state,
                          *tcp_,
                          service_->callbacks,
                          [this] { return server_info(); },
                          [this] { return started_; }};
    deps.tls_cert = config_.api.tls_cert;
    deps.tls_key = config_.api.tls_key;
    api_ = std::make_unique<control::ApiServer>(deps);
    api_->start(config_.api.address, config_.api.port);
    spdlog::info("REST API listening on {}:{}{}", config_.api.address, api_->port(),
                 api_->tls() ? " (HTTPS)" : "");
  }
  if (config_.metrics.enabled) {
    metrics_server_ = std::make_unique<metrics::MetricsServer>(registry_);
    metrics_server_->start(config_.metrics.address, config_.metrics.port);
    spdlog::info("metrics on http://{}:{}/metrics", config_.metrics.address,
                 metrics_server_->port());
  }
}

nlohmann::json Daemon::server_info() const {
  double uptime =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at_).count();
  nlohmann::json listeners = {{"nfs", tcp_->listen_address()},
                              {"nfs_all", tcp_->listen_addresses()}};
  if (api_) listeners["api"] = config_.api.address + ":" + std::to_string(api_->port());
  if (metrics_server_) {
    listeners["metrics"] = config_.metrics.address + ":" + std::to_string(metrics_server_->port());
  }
  return {{"server_owner", "dittofs:" + service_->instance_id()},
          {"version", build::kVersion},
          {"revision", build::kGitRevision},
          {"uptime_s", uptime},
          {"listeners", listeners}};
}

void Daemon::stop() {
  if (!started_) return;
  started_ = false;
  if (api_) api_->stop();
  if (metrics_server_) metrics_server_->stop();
  if (registered_) rpc::rpcbind_unset(nfs4::kProgram, nfs4::kVersion);
  tcp_->stop();
  service_->stop();
  if (nfs_metrics_) nfs_metrics_->detach();
}

}  // namespace dfs::server
