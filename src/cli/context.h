#pragma once
// What every command needs besides its own arguments: the global options (--config, -o),
// the output streams, and a logged-in API client built from the saved configuration.

#include <iostream>
#include <memory>
#include <string>

#include "cli/config_store.h"
#include "cli/http_client.h"
#include "cli/output.h"

namespace dfs::cli {

class Context {
 public:
  Context(std::ostream& out, std::ostream& err) : out_(out), err_(err) {}

  // Set by the global options before any command runs.
  std::string config_path;  // empty: default_config_path()
  std::string output = "table";

  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  ConfigStore store() const;
  Printer printer();
  // A client for the saved server with the saved tokens; refreshed tokens are saved back.
  // Throws "not logged in" (exit 1) when there is no saved login.
  ApiClient& client();

 private:
  std::ostream& out_;
  std::ostream& err_;
  std::unique_ptr<ApiClient> client_;
};

}  // namespace dfs::cli
