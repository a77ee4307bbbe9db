// dfsctl grace: the grace period after a restart, in which clients that held state reclaim it
// (GET /api/v1/grace), and ending it early (POST /api/v1/grace/end).

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"

namespace dfs::cli {

void add_grace_commands(CLI::App& app, Context& ctx) {
  CLI::App* grace = app.add_subcommand("grace", "The grace period after a restart");
  grace->require_subcommand(1);
  grace->add_subcommand("status", "Whether the server is in grace, for how long, and who reclaimed")
      ->callback([&ctx] { ctx.printer().object(ctx.client().call("GET", "/api/v1/grace")); });
  grace
      ->add_subcommand("end",
                       "End the grace period now: clients that have not reclaimed lose their "
                       "state, and new opens and locks are allowed")
      ->callback([&ctx] {
        ctx.printer().object(
            ctx.client().call("POST", "/api/v1/grace/end", nlohmann::json::object()));
      });
}

}  // namespace dfs::cli
