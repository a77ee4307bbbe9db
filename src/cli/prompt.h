#pragma once
// Asking the user for a name or a password. On a terminal the prompt goes to stderr (stdout
// stays clean for -o json) and passwords are read without echo; when stdin is not a terminal
// a line is read from it, so `echo "$PW" | dfsctl login` works in scripts.

#include <optional>
#include <string>

namespace dfs::cli {

// Nothing at end of input.
std::optional<std::string> read_line(const std::string& prompt);
std::optional<std::string> read_secret(const std::string& prompt);

// True when stdin is a terminal (prompts are shown, confirmations asked).
bool interactive();

// A new password: from a terminal asked twice (they must match), otherwise one line of
// stdin. Throws a usage CliError when none is given or the two differ.
std::string read_new_password(const std::string& prompt);

}  // namespace dfs::cli
