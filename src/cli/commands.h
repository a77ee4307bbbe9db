#pragma once
// One function per command group; each adds its subcommands to the root app. The commands
// run from CLI11 callbacks after parsing, so a parse error never half-runs a command.

namespace CLI {
class App;
}

namespace dfs::cli {

class Context;

void add_auth_commands(CLI::App& app, Context& ctx);        // login, logout
void add_user_commands(CLI::App& app, Context& ctx);        // user ...
void add_share_commands(CLI::App& app, Context& ctx);       // share ...
void add_store_commands(CLI::App& app, Context& ctx);       // store metadata|block ...
void add_adapter_commands(CLI::App& app, Context& ctx);     // adapter settings nfs ...
void add_client_commands(CLI::App& app, Context& ctx);      // client ..., client sessions ...
void add_connection_commands(CLI::App& app, Context& ctx);  // connection ...
void add_status_command(CLI::App& app, Context& ctx);       // status
void add_grace_commands(CLI::App& app, Context& ctx);       // grace status|end

}  // namespace dfs::cli
