#include "control/store_catalog.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <regex>

namespace dfs::control {
namespace {

size_t slot(StoreKind kind) {
  return kind == StoreKind::kMetadata ? 0 : 1;
}

// Why `dir` cannot be a store's directory, or nullopt.
std::optional<std::string> directory_problem(const std::string& dir) {
  if (dir.empty() || dir[0] != '/') return "directory must be an absolute path";
  if (dir.size() > 4096) return "directory must be at most 4096 bytes";
  for (unsigned char c : dir) {
    if (c < 0x20 || c == 0x7f) return "directory must not contain control characters";
  }
  for (const auto& part : std::filesystem::path(dir)) {
    if (part == "..") return "directory must not contain '..' components";
  }
  return std::nullopt;
}

ApiError store_exists(StoreKind kind, const std::string& name) {
  return ApiError{409, std::string("a ") + to_string(kind) + " store named " + name + " exists",
                  "name"};
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v)
    out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

const char* to_string(StoreKind kind) {
  return kind == StoreKind::kMetadata ? "metadata" : "block";
}

std::string no_such_store(StoreKind kind, const std::string& name) {
  return std::string("no ") + to_string(kind) + " store named " + name;
}

StoreCatalog::StoreCatalog(ControlDb& db, std::string data_dir)
    : db_(db), data_dir_(std::move(data_dir)) {}

std::vector<std::string> StoreCatalog::types(StoreKind kind) {
  if (kind == StoreKind::kMetadata) return {"rocksdb", "memory"};
  return {"fs", "memory"};
}

std::vector<StoreRecord> StoreCatalog::builtin(StoreKind kind) const {
  // The names a share gets when it names no store, and the layout dfs had before named
  // stores: <data_dir>/shares/<share>/metadata and .../blocks.
  const std::string shares = data_dir_ + "/shares";
  if (kind == StoreKind::kMetadata)
    return {{"rocksdb", "rocksdb", shares, ""}, {"memory", "memory", "", ""}};
  return {{"fs", "fs", shares, ""}, {"memory", "memory", "", ""}};
}

std::string StoreCatalog::share_directory(const StoreRecord& store, const std::string& share_path) {
  std::string name;
  for (char ch :
       share_path.size() > 1 && share_path[0] == '/' ? share_path.substr(1) : share_path) {
    if (ch == '%') {
      name += "%25";
    } else if (ch == '/') {
      name += "%2F";
    } else {
      name += ch;
    }
  }
  return store.directory + "/" + name;
}

std::optional<ApiError> StoreCatalog::check(StoreKind kind, StoreRecord& s, bool from_api) const {
  static const std::regex name_re("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
  if (!std::regex_match(s.name, name_re)) {
    return ApiError{400, "name must be 1-64 letters, digits, '_', '.' or '-'", "name"};
  }
  auto allowed = types(kind);
  if (std::find(allowed.begin(), allowed.end(), s.type) == allowed.end()) {
    return ApiError{
        400,
        std::string("type of a ") + to_string(kind) + " store must be one of: " + joined(allowed),
        "type"};
  }
  if (find(kind, s.name)) {
    return store_exists(kind, s.name);
  }
  if (!durable_type(s.type)) {
    if (!s.directory.empty()) {
      return ApiError{400, "a memory store keeps nothing on disk: give it no directory",
                      "directory"};
    }
    return std::nullopt;
  }
  if (s.directory.empty()) {
    if (!from_api) return ApiError{400, "a " + s.type + " store needs a directory", "directory"};
    s.directory = data_dir_ + "/stores/" + to_string(kind) + "/" + s.name;
  }
  if (auto why = directory_problem(s.directory)) return ApiError{400, *why, "directory"};
  std::error_code ec;
  std::filesystem::create_directories(s.directory, ec);
  if (ec) {
    return ApiError{400, "cannot create " + s.directory + ": " + ec.message(), "directory"};
  }
  if (::access(s.directory.c_str(), W_OK | X_OK) != 0) {
    return ApiError{400, "dfs cannot write in " + s.directory, "directory"};
  }
  return std::nullopt;
}

void StoreCatalog::add_config_store(StoreKind kind, StoreRecord store) {
  if (auto err = check(kind, store, false)) {
    throw std::invalid_argument(std::string(to_string(kind)) + " store " + store.name + ": " +
                                err->detail);
  }
  std::lock_guard lock(mu_);
  config_[slot(kind)].push_back(std::move(store));
}

std::optional<StoreRecord> StoreCatalog::find(StoreKind kind, const std::string& name) const {
  for (auto& s : builtin(kind)) {
    if (s.name == name) return s;
  }
  {
    std::lock_guard lock(mu_);
    for (const auto& s : config_[slot(kind)]) {
      if (s.name == name) return s;
    }
  }
  for (auto& s : db_.stores(to_string(kind))) {
    if (s.name == name) return s;
  }
  return std::nullopt;
}

nlohmann::json StoreCatalog::to_json(const StoreRecord& s, const char* source) {
  nlohmann::json j = {{"name", s.name}, {"type", s.type}, {"source", source}};
  j["directory"] = s.directory.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.directory);
  if (!s.created_at.empty()) j["created_at"] = s.created_at;
  return j;
}

nlohmann::json StoreCatalog::list(StoreKind kind) const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : builtin(kind))
    out.push_back(to_json(s, "builtin"));
  {
    std::lock_guard lock(mu_);
    for (const auto& s : config_[slot(kind)])
      out.push_back(to_json(s, "config"));
  }
  for (const auto& s : db_.stores(to_string(kind)))
    out.push_back(to_json(s, "api"));
  return out;
}

std::optional<nlohmann::json> StoreCatalog::get(StoreKind kind, const std::string& name) const {
  for (auto& s : list(kind)) {
    if (s["name"] == name) return s;
  }
  return std::nullopt;
}

std::variant<nlohmann::json, ApiError> StoreCatalog::create(StoreKind kind,
                                                            const nlohmann::json& body) {
  if (!body.is_object()) return ApiError{400, "the body must be a JSON object", ""};
  StoreRecord s;
  for (const auto& [key, value] : body.items()) {
    std::string* field = key == "name"        ? &s.name
                         : key == "type"      ? &s.type
                         : key == "directory" ? &s.directory
                                              : nullptr;
    if (!field) return ApiError{400, "unknown field " + key, key};
    if (!value.is_string()) return ApiError{400, key + " must be a string", key};
    *field = value.get<std::string>();
  }
  if (s.type.empty()) {
    return ApiError{400, "type is required (one of: " + joined(types(kind)) + ")", "type"};
  }
  auto lock = hold();
  if (auto err = check(kind, s, true)) return *err;
  s.created_at = now_rfc3339();
  if (!db_.insert_store(to_string(kind), s)) {
    return store_exists(kind, s.name);
  }
  return to_json(s, "api");
}

std::optional<ApiError> StoreCatalog::removable(StoreKind kind, const std::string& name) const {
  for (const auto& s : builtin(kind)) {
    if (s.name == name) return ApiError{409, name + " is a built-in store", "name"};
  }
  {
    std::lock_guard lock(mu_);
    for (const auto& s : config_[slot(kind)]) {
      if (s.name == name) {
        return ApiError{409, "store " + name + " comes from the configuration file", "name"};
      }
    }
  }
  if (!find(kind, name)) {
    return ApiError{404, no_such_store(kind, name), "name"};
  }
  return std::nullopt;
}

std::optional<ApiError> StoreCatalog::remove(StoreKind kind, const std::string& name) {
  if (auto err = removable(kind, name)) return err;
  if (!db_.delete_store(to_string(kind), name)) {
    return ApiError{404, no_such_store(kind, name), "name"};
  }
  return std::nullopt;
}

}  // namespace dfs::control
