#include "cli/prompt.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <iostream>

#include "cli/errors.h"

namespace dfs::cli {
namespace {

termios g_saved;
struct sigaction g_old_int;

// Ctrl-C at a password prompt must not leave the user's terminal without echo.
extern "C" void restore_and_reraise(int sig) {
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved);
  sigaction(SIGINT, &g_old_int, nullptr);
  raise(sig);
}

std::optional<std::string> get_line() {
  std::string line;
  if (!std::getline(std::cin, line)) {
    if (line.empty()) return std::nullopt;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

std::optional<std::string> read_line(const std::string& prompt) {
  if (isatty(STDIN_FILENO)) std::cerr << prompt << std::flush;
  return get_line();
}

std::optional<std::string> read_secret(const std::string& prompt) {
  if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &g_saved) != 0) return get_line();
  std::cerr << prompt << std::flush;
  struct sigaction on_int {};
  on_int.sa_handler = restore_and_reraise;
  sigemptyset(&on_int.sa_mask);
  sigaction(SIGINT, &on_int, &g_old_int);
  termios quiet = g_saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  auto line = get_line();
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved);
  sigaction(SIGINT, &g_old_int, nullptr);
  return line;
}

bool interactive() {
  return isatty(STDIN_FILENO) != 0;
}

std::string read_new_password(const std::string& prompt) {
  auto first = read_secret(prompt);
  if (!first || first->empty()) {
    throw usage_error("no password given (use --password, or type it when asked)");
  }
  if (interactive()) {
    auto again = read_secret("Repeat the password: ");
    if (!again || *again != *first) throw usage_error("the passwords do not match");
  }
  return *first;
}

}  // namespace dfs::cli
