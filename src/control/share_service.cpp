#include "control/share_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <regex>
#include <tuple>

#include "control/share_fields.h"
#include "util/cidr.h"
#include "vfs/squash.h"

namespace dfs::control {
namespace {

// Length of the UTF-8 sequence starting at s[i] (0: invalid), without overlong forms or
// surrogates.
size_t utf8_length(const std::string& s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(i + 1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(i + 1) >= 0x90) return 0;  // beyond U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

std::optional<std::string> share_path_problem(const std::string& path) {
  if (path.empty() || path[0] != '/') return "path must be absolute (start with '/')";
  if (path.size() > 1024) return "path must be at most 1024 bytes";
  for (size_t i = 0; i < path.size();) {
    auto c = static_cast<unsigned char>(path[i]);
    if (c < 0x20 || c == 0x7f)
      return "path must not contain control characters (NUL, newline, ...)";
    size_t n = utf8_length(path, i);
    if (n == 0) return "path must be valid UTF-8";
    i += n;
  }
  if (path == "/") return "path must not be '/': a share there would hide every other share";
  for (size_t start = 1; start <= path.size();) {
    size_t end = std::min(path.find('/', start), path.size());
    std::string_view part(path.data() + start, end - start);
    if (part.empty()) return "path must not contain empty components ('//' or a trailing '/')";
    if (part == "." || part == "..") return "path must not contain '.' or '..' components";
    if (part.size() > 255) return "each component of path must be at most 255 bytes";
    start = end + 1;
  }
  return std::nullopt;
}

bool share_paths_overlap(const std::string& a, const std::string& b) {
  const std::string& shorter = a.size() <= b.size() ? a : b;
  const std::string& longer = a.size() <= b.size() ? b : a;
  if (longer.compare(0, shorter.size(), shorter) != 0) return false;
  return longer.size() == shorter.size() || shorter == "/" || longer[shorter.size()] == '/';
}

std::string printable(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f || c == '\\') {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

ShareService::ShareService(ControlDb& db, vfs::Namespace& ns, StoreCatalog& stores,
                           FileSystemFactory factory)
    : db_(db), ns_(ns), stores_(stores), factory_(std::move(factory)) {}

void ShareService::add_config_share(const ShareRecord& share) {
  std::lock_guard lock(mu_);
  config_shares_.push_back(share);
}

uint32_t ShareService::next_index() const {
  uint32_t n = db_.max_share_index();
  std::lock_guard lock(mu_);
  for (const auto& s : config_shares_)
    n = std::max(n, s.index);
  return std::max(n + 1, index_base_);
}

std::variant<vfs::ShareOptions, ApiError> ShareService::options_for(const ShareRecord& r) const {
  vfs::ShareOptions o;
  o.read_only = r.read_only;
  o.root_squash = r.root_squash;
  o.all_squash = r.all_squash;
  o.anon_uid = r.anon_uid;
  o.anon_gid = r.anon_gid;
  for (const auto& h : r.allowed_hosts) {
    auto c = util::Cidr::parse(h);
    if (!c) return ApiError{400, "'" + h + "' is not an address or CIDR block", "allowed_hosts"};
    o.allowed_hosts.push_back(*c);
  }
  for (const auto& u : r.allowed_users) {
    auto rec = db_.user(u);
    if (!rec) return ApiError{400, "no user named '" + u + "'", "allowed_users"};
    if (!rec->uid) return ApiError{400, "user '" + u + "' has no uid", "allowed_users"};
    o.allowed_uids.push_back(*rec->uid);
  }
  return o;
}

std::shared_ptr<vfs::FileSystem> ShareService::make(const ShareRecord& r,
                                                    const vfs::ShareOptions& o) {
  auto fs = factory_(r, fsid_for(r.index));
  vfs::give_empty_root_to_anon(*fs, o);
  return fs;
}

void ShareService::load() {
  for (const auto& r : db_.shares()) {
    if (auto why = share_path_problem(r.path)) {
      // Stored before paths were checked: left in the database (it can be deleted), not
      // mounted.
      spdlog::error("share {} ({}) not mounted: {}", printable(r.name), printable(r.path), *why);
      continue;
    }
    try {
      auto opts = options_for(r);
      if (auto* err = std::get_if<ApiError>(&opts)) throw std::invalid_argument(err->detail);
      auto fs = make(r, std::get<vfs::ShareOptions>(opts));
      auto res = ns_.add_share(r.path, fs, std::get<vfs::ShareOptions>(opts), r.index);
      if (!res.ok()) throw std::invalid_argument(vfs::to_string(res.status()));
      spdlog::info("share {} ({}) mounted from the control database", r.name, r.path);
    } catch (const std::exception& e) {
      spdlog::error("share {} ({}) not mounted: {}", printable(r.name), printable(r.path),
                    printable(e.what()));
    }
  }
}

nlohmann::json ShareService::to_json(const ShareRecord& r, const char* source) {
  return {{"name", r.name},
          {"path", r.path},
          {"metadata_store", r.metadata_store},
          {"block_store", r.block_store},
          {"read_only", r.read_only},
          {"root_squash", r.root_squash},
          {"all_squash", r.all_squash},
          {"anon_uid", r.anon_uid},
          {"anon_gid", r.anon_gid},
          {"allowed_hosts", r.allowed_hosts},
          {"allowed_users", r.allowed_users},
          {"created_at", r.created_at},
          {"source", source}};
}

nlohmann::json ShareService::list() const {
  nlohmann::json out = nlohmann::json::array();
  {
    std::lock_guard lock(mu_);
    for (const auto& s : config_shares_)
      out.push_back(to_json(s, "config"));
  }
  for (const auto& s : db_.shares())
    out.push_back(to_json(s, "api"));
  return out;
}

std::vector<ShareRecord> ShareService::records() const {
  std::vector<ShareRecord> out;
  {
    std::lock_guard lock(mu_);
    out = config_shares_;
  }
  for (auto& s : db_.shares())
    out.push_back(std::move(s));
  return out;
}

std::vector<std::string> ShareService::using_store(StoreKind kind, const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& s : records()) {
    if ((kind == StoreKind::kMetadata ? s.metadata_store : s.block_store) == name) {
      out.push_back(s.name);
    }
  }
  return out;
}

std::optional<ApiError> ShareService::remove_store(StoreKind kind, const std::string& name) {
  auto catalog = stores_.hold();
  if (auto err = stores_.removable(kind, name)) return err;
  auto users = using_store(kind, name);
  if (!users.empty()) {
    std::string list;
    for (const auto& u : users)
      list += (list.empty() ? "" : ", ") + u;
    return ApiError{409, "store " + name + " is used by share(s) " + list, "name"};
  }
  return stores_.remove(kind, name);
}

std::optional<nlohmann::json> ShareService::get(const std::string& name) const {
  for (auto& s : list()) {
    if (s["name"] == name) return s;
  }
  return std::nullopt;
}

std::variant<nlohmann::json, ApiError> ShareService::create(const nlohmann::json& body) {
  if (!body.is_object()) return ApiError{400, "the body must be a JSON object", ""};
  static const std::regex name_re("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
  ShareRecord r;
  for (const auto& [key, value] : body.items()) {
    if (auto err = apply_share_field(key, value, r)) return *err;
  }
  if (!std::regex_match(r.name, name_re)) {
    return ApiError{400, "name must be 1-64 letters, digits, '_', '.' or '-'", "name"};
  }
  if (auto why = share_path_problem(r.path)) return ApiError{400, *why, "path"};
  auto opts = options_for(r);
  if (auto* err = std::get_if<ApiError>(&opts)) return *err;
  // Until the share is stored, nobody removes a store it names.
  auto catalog = stores_.hold();
  for (auto [kind, name, field] :
       {std::tuple{StoreKind::kMetadata, &r.metadata_store, "metadata_store"},
        std::tuple{StoreKind::kBlock, &r.block_store, "block_store"}}) {
    if (!stores_.find(kind, *name)) {
      return ApiError{
          400,
          no_such_store(kind, *name) + " (`dfsctl store " + to_string(kind) + " list` shows them)",
          field};
    }
  }
  if (get(r.name)) return ApiError{409, "a share named " + r.name + " exists", "name"};
  // Shares do not nest: one inside another would hide it, or part of it, from clients.
  // (The stored ones too: one that could not be mounted is still there.)
  for (const auto& s : list()) {
    const std::string other = s["path"];
    if (other == r.path)
      return ApiError{409, "share " + s["name"].get<std::string>() + " is at " + r.path, "path"};
    if (share_paths_overlap(other, r.path)) {
      return ApiError{409,
                      "path " + r.path +
                          (other.size() < r.path.size() ? " is inside" : " contains") + " share " +
                          s["name"].get<std::string>() + " at " + other,
                      "path"};
    }
  }
  for (const auto& s : ns_.shares()) {
    if (share_paths_overlap(s.path, r.path)) {
      return ApiError{409, "path " + r.path + " overlaps the share mounted at " + s.path, "path"};
    }
  }
  r.index = next_index();
  r.created_at = now_rfc3339();
  std::shared_ptr<vfs::FileSystem> fs;
  try {
    fs = make(r, std::get<vfs::ShareOptions>(opts));
  } catch (const std::invalid_argument& e) {
    return ApiError{400, e.what(), "metadata_store"};
  }
  auto res = ns_.add_share(r.path, fs, std::get<vfs::ShareOptions>(opts), r.index);
  if (!res.ok()) {
    return ApiError{res.status() == vfs::Status::kExist ? 409 : 400,
                    std::string("cannot mount at ") + r.path + ": " + vfs::to_string(res.status()),
                    "path"};
  }
  if (!db_.insert_share(r)) {
    ns_.remove_share(r.path);
    return ApiError{409, "a share with this name or path exists", "name"};
  }
  return to_json(r, "api");
}

std::variant<nlohmann::json, ApiError> ShareService::update(const std::string& name,
                                                            const nlohmann::json& body) {
  if (!body.is_object()) return ApiError{400, "the body must be a JSON object", ""};
  {
    std::lock_guard lock(mu_);
    for (const auto& s : config_shares_) {
      if (s.name == name) {
        return ApiError{
            409,
            "share " + name + " comes from the configuration file: change it there and restart",
            "name"};
      }
    }
  }
  std::lock_guard lock(update_mu_);
  std::optional<ShareRecord> found;
  for (auto& s : db_.shares()) {
    if (s.name == name) found = std::move(s);
  }
  if (!found) return ApiError{404, "no share named " + name, "name"};
  ShareRecord r = *found;
  for (const auto& [key, value] : body.items()) {
    if (auto err = apply_share_field(key, value, r)) return *err;
    if (!share_field_changeable(key)) {
      return ApiError{400, key + " cannot be changed: delete the share and create it again", key};
    }
  }
  auto opts = options_for(r);
  if (auto* err = std::get_if<ApiError>(&opts)) return *err;
  if (!db_.update_share_access(r)) return ApiError{404, "no share named " + name, "name"};
  // A share stored but not mounted (see load()) has no options in the namespace to change.
  if (ns_.set_share_options(r.index, std::get<vfs::ShareOptions>(opts)) == vfs::Status::kOk) {
    if (auto fs = ns_.file_system(r.index)) {
      vfs::give_empty_root_to_anon(*fs, std::get<vfs::ShareOptions>(opts));
    }
  }
  return to_json(r, "api");
}

std::optional<ApiError> ShareService::remove(const std::string& name) {
  {
    std::lock_guard lock(mu_);
    for (const auto& s : config_shares_) {
      if (s.name == name) {
        return ApiError{409, "share " + name + " comes from the configuration file", "name"};
      }
    }
  }
  for (const auto& s : db_.shares()) {
    if (s.name != name) continue;
    ns_.remove_share(s.path);
    db_.delete_share(name);
    return std::nullopt;
  }
  return ApiError{404, "no share named " + name, "name"};
}

}  // namespace dfs::control
