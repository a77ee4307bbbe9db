#include "cli/config_store.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/errors.h"

namespace dfs::cli {
namespace {

std::string home_dir() {
  if (const char* home = std::getenv("HOME"); home && *home) return home;
  // Services and some sudo setups run without HOME; the password database still knows.
  if (const passwd* pw = getpwuid(getuid()); pw && pw->pw_dir) return pw->pw_dir;
  return ".";
}

std::string errno_text() {
  return std::strerror(errno);
}

void create_private_dirs(const std::filesystem::path& dir) {
  if (dir.empty() || std::filesystem::exists(dir)) return;
  create_private_dirs(dir.parent_path());
  // Only directories created here get 0700; existing ones (like ~/.config) are left alone.
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    throw CliError(kExitApi, "cannot create " + dir.string() + ": " + errno_text());
  }
}

}  // namespace

std::string default_config_path() {
  // The XDG spec says relative values are invalid and must be ignored.
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  std::string base = (xdg && xdg[0] == '/') ? std::string(xdg) : home_dir() + "/.config";
  return base + "/dfsctl/config.json";
}

std::optional<CliConfig> ConfigStore::load() const {
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec) && !ec) return std::nullopt;
  std::ifstream in(path_);
  if (!in) throw CliError(kExitApi, "cannot read " + path_ + ": " + errno_text());
  std::stringstream text;
  text << in.rdbuf();
  auto doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (!doc.is_object()) {
    throw CliError(kExitApi, path_ + " is not a dfsctl configuration; run `dfsctl login` again");
  }
  auto str = [&doc](const char* key) {
    auto it = doc.find(key);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  return CliConfig{str("server"), str("username"), str("role"), str("access_token"),
                   str("refresh_token")};
}

void ConfigStore::save(const CliConfig& config) const {
  const std::filesystem::path target(path_);
  create_private_dirs(target.parent_path());
  const nlohmann::json doc = {{"server", config.server},
                              {"username", config.username},
                              {"role", config.role},
                              {"access_token", config.access_token},
                              {"refresh_token", config.refresh_token}};
  const std::string text = doc.dump(2) + "\n";
  // A temporary file renamed over the old one: a crash or a full disk never leaves a
  // half-written file, and the tokens are never readable by others, not even briefly.
  const std::string tmp = path_ + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw CliError(kExitApi, "cannot write " + tmp + ": " + errno_text());
  bool ok = fchmod(fd, 0600) == 0;
  size_t done = 0;
  while (ok && done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && fsync(fd) == 0;
  const std::string why = ok ? "" : errno_text();
  close(fd);
  if (!ok || rename(tmp.c_str(), path_.c_str()) != 0) {
    const std::string reason = ok ? errno_text() : why;
    unlink(tmp.c_str());
    throw CliError(kExitApi, "cannot write " + path_ + ": " + reason);
  }
}

}  // namespace dfs::cli
