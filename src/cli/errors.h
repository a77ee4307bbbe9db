#pragma once
// The one exception type of dfsctl. Every failure carries the exit code the user's scripts
// see, so main() maps all errors the same way and each command only says what went wrong.

#include <stdexcept>
#include <string>

namespace dfs::cli {

// Exit codes are part of the CLI's contract (docs/cli.md): scripts tell "the server said no"
// from "I typed it wrong" from "the server is down".
enum ExitCode : int {
  kExitOk = 0,
  kExitApi = 1,          // the API refused (problem body), or not logged in
  kExitUsage = 2,        // bad flags or arguments
  kExitUnreachable = 3,  // no connection to the server
};

class CliError : public std::runtime_error {
 public:
  CliError(int exit_code, const std::string& message)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

inline CliError usage_error(const std::string& message) {
  return CliError(kExitUsage, message);
}

}  // namespace dfs::cli
