#pragma once
// Named stores: where shares keep their metadata and their file content. A share names one
// metadata store and one block store; a named store is a type (rocksdb or memory for
// metadata, fs or memory for blocks) and, for the durable types, a directory under which
// every share that uses it gets a directory of its own. So an operator can put metadata on
// a fast disk and content on a big one, and several shares can use one store.
//
// Three sources, one name space per kind: the built-in stores (metadata "rocksdb" and
// "memory", blocks "fs" and "memory", the durable ones under <data_dir>/shares), stores from
// the configuration file, and stores created through the API (kept in the control database).
// Removing a store forgets its definition; the data its shares wrote stays on disk.

#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/api_error.h"
#include "control/control_db.h"

namespace dfs::control {

enum class StoreKind { kMetadata, kBlock };

// "metadata" or "block": the word the API's paths and messages use.
const char* to_string(StoreKind kind);
// "no metadata store named NAME" (and the block twin): every refusal that names a missing store.
std::string no_such_store(StoreKind kind, const std::string& name);

class StoreCatalog {
 public:
  StoreCatalog(ControlDb& db, std::string data_dir);

  // A store from the configuration file; throws std::invalid_argument if it is not valid
  // (unknown type, bad name or directory, a name taken).
  void add_config_store(StoreKind kind, StoreRecord store);

  // The store named `name` of this kind, from any source.
  std::optional<StoreRecord> find(StoreKind kind, const std::string& name) const;
  // Every store of this kind as JSON (built-in, then configuration file, then API), each with
  // its source.
  nlohmann::json list(StoreKind kind) const;
  std::optional<nlohmann::json> get(StoreKind kind, const std::string& name) const;
  // Creates an API store from {"name", "type", "directory"?}; a durable store without a
  // directory gets <data_dir>/stores/<kind>/<name>. The directory is created here, so a
  // store that cannot hold data is refused now, not when a share first uses it.
  std::variant<nlohmann::json, ApiError> create(StoreKind kind, const nlohmann::json& body);
  // Why the store cannot be removed whatever uses it (built-in, from the configuration
  // file: 409; no such store: 404), or nullopt.
  std::optional<ApiError> removable(StoreKind kind, const std::string& name) const;
  // Forgets an API store. The caller checks that no share uses it, holding hold().
  std::optional<ApiError> remove(StoreKind kind, const std::string& name);

  // Held across "check the stores a share names, then add the share" and "check no share
  // names a store, then remove it", so the two cannot interleave.
  std::unique_lock<std::mutex> hold() { return std::unique_lock(catalog_mu_); }

  // Where the share at `share_path` keeps its data in `store`: the store's directory plus
  // the share path with '%' and '/' escaped ("/export" -> export, "/a/b" -> a%2Fb).
  static std::string share_directory(const StoreRecord& store, const std::string& share_path);
  // The names a store of this kind may have as its type.
  static std::vector<std::string> types(StoreKind kind);
  static bool durable_type(const std::string& type) { return type != "memory"; }

 private:
  std::optional<ApiError> check(StoreKind kind, StoreRecord& store, bool from_api) const;
  std::vector<StoreRecord> builtin(StoreKind kind) const;
  static nlohmann::json to_json(const StoreRecord& s, const char* source);

  ControlDb& db_;
  std::string data_dir_;
  std::mutex catalog_mu_;
  mutable std::mutex mu_;  // config_
  std::vector<StoreRecord> config_[2];
};

}  // namespace dfs::control
