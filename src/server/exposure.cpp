#include "server/exposure.h"

#include "vfs/squash.h"

namespace dfs::server {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

bool is_wildcard(const std::string& address) {
  return address.starts_with("0.0.0.0:") || address.starts_with("[::]:");
}

}  // namespace

std::vector<std::string> who_may_mount(const std::vector<control::ShareRecord>& shares,
                                       const std::vector<std::string>& listening) {
  std::string where = join(listening);
  for (const auto& a : listening) {
    if (is_wildcard(a)) {
      where += " (every address of this host)";
      break;
    }
  }
  std::vector<std::string> out;
  for (const auto& s : shares) {
    vfs::ShareOptions o;
    o.root_squash = s.root_squash;
    o.all_squash = s.all_squash;
    o.anon_uid = s.anon_uid;
    o.anon_gid = s.anon_gid;
    std::string hosts =
        s.allowed_hosts.empty() ? "any host" : "only hosts in " + join(s.allowed_hosts);
    std::string line = "share " + s.path + ": " + hosts + " reaching " + where + " may mount it";
    if (!s.allowed_users.empty()) line += " (users " + join(s.allowed_users) + " only)";
    line += s.read_only ? ", read-only; " : ", read-write; ";
    line += vfs::describe_squash(o);
    out.push_back(std::move(line));
  }
  return out;
}

std::string how_to_change_exposure() {
  return "to change who may mount: in the --config file, a share's allowed_hosts lists the "
         "hosts it admits, root_squash: false lets client root act as root, all_squash: true "
         "maps every user to anon_uid/anon_gid, and listen (or --listen) picks the addresses; "
         "shares made with dfsctl share create take --allowed-host, --no-root-squash, "
         "--all-squash, --anon-uid and --anon-gid, and dfsctl share update changes them";
}

}  // namespace dfs::server
