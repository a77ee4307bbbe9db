// dfsctl login / logout: get a token pair from the server and keep it in the config file.

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <memory>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/errors.h"
#include "cli/prompt.h"

namespace dfs::cli {
namespace {

constexpr const char* kDefaultServer = "http://127.0.0.1:8080";

struct LoginOptions {
  std::string server;
  std::string username;
  std::string password;
  CLI::Option* password_flag = nullptr;
};

std::optional<CliConfig> load_quietly(const ConfigStore& store) {
  // A damaged config file must not stop the user from logging in again: login replaces it.
  try {
    return store.load();
  } catch (const CliError&) {
    return std::nullopt;
  }
}

void login(Context& ctx, const LoginOptions& o) {
  const ConfigStore store = ctx.store();
  const auto saved = load_quietly(store);
  std::string server = o.server;
  if (server.empty()) server = saved && !saved->server.empty() ? saved->server : kDefaultServer;
  ApiClient client(server);  // validates the URL before anything is asked

  std::string username = o.username;
  if (username.empty()) {
    const std::string fallback = saved ? saved->username : std::string();
    auto answer = read_line(fallback.empty() ? "Username: " : "Username [" + fallback + "]: ");
    username = answer && !answer->empty() ? *answer : fallback;
  }
  if (username.empty()) throw usage_error("no user name given (use --username)");

  std::string password;
  if (o.password_flag->count() > 0) {
    password = o.password;
  } else if (const char* env = std::getenv("DFSCTL_PASSWORD"); env && *env) {
    password = env;
  } else {
    auto answer = read_secret("Password for " + username + ": ");
    if (!answer) {
      throw usage_error("no password given (use --password, DFSCTL_PASSWORD, or a terminal)");
    }
    password = *answer;
  }

  const auto reply = client.call("POST", "/api/v1/auth/login",
                                 nlohmann::json{{"username", username}, {"password", password}},
                                 /*authenticated=*/false);
  CliConfig config;
  config.server = client.server().str();
  config.username = username;
  config.role = reply.value("role", "");
  config.access_token = reply.value("access_token", "");
  config.refresh_token = reply.value("refresh_token", "");
  if (config.access_token.empty()) {
    throw CliError(kExitApi, "the server's login reply has no access token");
  }
  store.save(config);

  Printer p = ctx.printer();
  if (p.format() == Format::kTable) {
    p.message("Logged in to " + config.server + " as " + username + " (role " + config.role + ")");
  } else {
    // Never the tokens: output like this ends up in CI logs.
    p.document({{"server", config.server},
                {"username", username},
                {"role", config.role},
                {"expires_in", reply.value("expires_in", 0)},
                {"config", store.path()}});
  }
}

void logout(Context& ctx) {
  const ConfigStore store = ctx.store();
  auto saved = load_quietly(store);
  if (!saved || !saved->logged_in()) {
    ctx.printer().message("Not logged in");
    return;
  }
  // The API keeps no server-side sessions to end, so logging out is forgetting the tokens.
  // The server and user name stay as defaults for the next login.
  saved->access_token.clear();
  saved->refresh_token.clear();
  saved->role.clear();
  store.save(*saved);
  ctx.printer().message("Logged out of " + saved->server);
}

}  // namespace

void add_auth_commands(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<LoginOptions>();
  auto* in = app.add_subcommand("login", "Log in to a dfs server and save the tokens");
  in->add_option("--server", o->server,
                 std::string("server URL (default: the saved one, else ") + kDefaultServer + ")");
  in->add_option("-u,--username", o->username, "user name (asked when missing)");
  o->password_flag = in->add_option("-p,--password", o->password,
                                    "password (else $DFSCTL_PASSWORD, else asked without echo)");
  in->callback([o, &ctx] { login(ctx, *o); });

  auto* out = app.add_subcommand("logout", "Forget the saved tokens");
  out->callback([&ctx] { logout(ctx); });
}

}  // namespace dfs::cli
