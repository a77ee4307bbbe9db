// dfsctl status: is the server up (GET /health, /ready) and what is it (GET /api/v1/server).

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/errors.h"
#include "cli/problem.h"

namespace dfs::cli {
namespace {

// /ready answers 503 while the NFS listener starts; that is a state to show, not an error.
nlohmann::json probe(ApiClient& client, const std::string& path) {
  HttpResult r = client.send("GET", path, "", /*authenticated=*/false);
  auto doc = nlohmann::json::parse(r.body, nullptr, false);
  if (doc.is_object() && doc.contains("status")) return doc["status"];
  return format_problem(r.status, r.body);
}

void status(Context& ctx) {
  ApiClient& client = ctx.client();
  nlohmann::json out = {{"url", client.server().str()},
                        {"health", probe(client, "/health")},
                        {"ready", probe(client, "/ready")}};
  out["server"] = client.call("GET", "/api/v1/server");
  ctx.printer().object(out);
}

}  // namespace

void add_status_command(CLI::App& app, Context& ctx) {
  app.add_subcommand("status", "Show the server's health, version, uptime and listeners")
      ->callback([&ctx] { status(ctx); });
}

}  // namespace dfs::cli
