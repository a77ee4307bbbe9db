#pragma once
// Shares (NFS exports) as the control plane manages them: created and removed through the
// API, kept in the control database, mounted into the namespace at once so new mounts see
// the change without a restart. Shares from the configuration file are listed too, read-only.

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/api_error.h"
#include "control/control_db.h"
#include "control/store_catalog.h"
#include "vfs/namespace.h"

namespace dfs::control {

// Builds a share's file system from its store names; throws std::invalid_argument for an
// unknown store or one that cannot be opened.
using FileSystemFactory =
    std::function<std::shared_ptr<vfs::FileSystem>(const ShareRecord&, uint64_t fsid)>;

// Why `path` cannot be a share's place in the pseudo-root, or nullopt if it can: it must be
// absolute and normalised (no empty, "." or ".." components, no trailing '/'), valid UTF-8
// without control characters (NUL, newline, ...), at most 1024 bytes, and not "/".
std::optional<std::string> share_path_problem(const std::string& path);
// Whether one of the paths is the other or lies inside it ("/a" and "/a/b", not "/ab").
bool share_paths_overlap(const std::string& a, const std::string& b);

// `s` with control characters and backslashes escaped as \xNN, for log lines made from
// what a request says.
std::string printable(std::string_view s);

class ShareService {
 public:
  ShareService(ControlDb& db, vfs::Namespace& ns, StoreCatalog& stores, FileSystemFactory factory);

  // A share defined by the configuration file (already mounted by the daemon).
  void add_config_share(const ShareRecord& share);
  // Mounts the shares stored in the database; logs and skips ones that cannot be mounted.
  void load();
  uint32_t next_index() const;
  // API shares are numbered from `base` up (config shares stay below it).
  void set_index_base(uint32_t base) { index_base_ = base; }

  nlohmann::json list() const;
  std::optional<nlohmann::json> get(const std::string& name) const;
  // On success the new share's JSON; on failure an error with an HTTP status.
  std::variant<nlohmann::json, ApiError> create(const nlohmann::json& body);
  std::optional<ApiError> remove(const std::string& name);
  // Changes an API share's squashing and access lists (PATCH); the new options apply to the
  // next operation of every client. On success the share's JSON.
  std::variant<nlohmann::json, ApiError> update(const std::string& name,
                                                const nlohmann::json& body);
  // Every share: the configuration file's, then the database's (mounted or not).
  std::vector<ShareRecord> records() const;
  // The names of the shares that keep their data in the named store.
  std::vector<std::string> using_store(StoreKind kind, const std::string& name) const;
  // Forgets an API store no share uses (409 naming the shares that do).
  std::optional<ApiError> remove_store(StoreKind kind, const std::string& name);

  // The fsid a share index gets (pseudo-root is 0).
  static uint64_t fsid_for(uint32_t index) { return 0x64667300ull + index; }
  // Access-list options for a record (users resolved to uids through the database).
  std::variant<vfs::ShareOptions, ApiError> options_for(const ShareRecord& r) const;

 private:
  static nlohmann::json to_json(const ShareRecord& r, const char* source);
  // Builds the file system and, if its root is still empty, gives the root to the user
  // squashed callers act as (so a squashed share is writable by its clients' root).
  std::shared_ptr<vfs::FileSystem> make(const ShareRecord& r, const vfs::ShareOptions& o);

  ControlDb& db_;
  vfs::Namespace& ns_;
  StoreCatalog& stores_;
  FileSystemFactory factory_;
  mutable std::mutex mu_;
  std::mutex update_mu_;  // one PATCH at a time: each reads, changes and writes a record
  std::vector<ShareRecord> config_shares_;
  uint32_t index_base_ = 1;
};

}  // namespace dfs::control
