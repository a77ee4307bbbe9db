#pragma once
// Where dfsctl keeps the server address and the token pair between runs: a small JSON file
// readable by its owner only, since the tokens grant the user's role on the server.

#include <optional>
#include <string>

namespace dfs::cli {

struct CliConfig {
  std::string server;  // base URL, e.g. http://127.0.0.1:8080
  std::string username;
  std::string role;
  std::string access_token;
  std::string refresh_token;

  bool logged_in() const { return !server.empty() && !access_token.empty(); }
};

// $XDG_CONFIG_HOME/dfsctl/config.json, else ~/.config/dfsctl/config.json.
std::string default_config_path();

class ConfigStore {
 public:
  explicit ConfigStore(std::string path) : path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  // Nothing when the file does not exist; a CliError when it exists but cannot be read.
  std::optional<CliConfig> load() const;
  // Writes atomically (temporary file + rename) with mode 0600, creating the directory
  // (mode 0700) when needed.
  void save(const CliConfig& config) const;

 private:
  std::string path_;
};

}  // namespace dfs::cli
