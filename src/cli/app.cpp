#include "cli/app.h"

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/errors.h"
#include "cli/problem.h"
#include "util/build_info.h"

namespace dfs::cli {

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  Context ctx(out, err);
  CLI::App app{"dfsctl - control a DittoFS server through its REST API", "dfsctl"};
  // Global options may come anywhere, also after the subcommand: `dfsctl user list -o json`.
  app.fallthrough();
  app.require_subcommand(1);
  app.add_option("--config", ctx.config_path,
                 "config file with the server and tokens (default: "
                 "$XDG_CONFIG_HOME/dfsctl/config.json or ~/.config/dfsctl/config.json)");
  app.add_option("-o,--output", ctx.output, "output format: table, json or yaml")
      ->check(CLI::IsMember({"table", "json", "yaml"}));
  app.set_version_flag("--version",
                       std::string("dfsctl ") + build::kVersion + " (" + build::kGitRevision + ")");

  add_auth_commands(app, ctx);
  add_user_commands(app, ctx);
  add_share_commands(app, ctx);
  add_store_commands(app, ctx);
  add_adapter_commands(app, ctx);
  add_client_commands(app, ctx);
  add_connection_commands(app, ctx);
  add_status_command(app, ctx);
  add_grace_commands(app, ctx);

  try {
    app.parse(argc, argv);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e, out, err);  // --help, --version
    err << "dfsctl: " << one_line(e.what()) << " (see --help)\n";
    return kExitUsage;
  } catch (const CliError& e) {
    err << "dfsctl: " << one_line(e.what()) << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    // A reply of an unexpected shape (nlohmann type errors) or a local I/O failure.
    err << "dfsctl: " << one_line(e.what()) << "\n";
    return kExitApi;
  }
}

}  // namespace dfs::cli
