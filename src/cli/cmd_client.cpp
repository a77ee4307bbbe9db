// dfsctl client list | show | evict, client sessions list | destroy: the NFS clients and
// sessions the server holds (/api/v1/clients).

#include <CLI/CLI.hpp>
#include <memory>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/errors.h"

namespace dfs::cli {
namespace {

const std::vector<Column> kClientColumns = {{"ID", "id"},
                                            {"OWNER", "owner"},
                                            {"ADDRESS", "address"},
                                            {"MINOR", "minor_version"},
                                            {"CONFIRMED", "confirmed"},
                                            {"LEASE_S", "lease_remaining_s"},
                                            {"SESSIONS", "session_count"},
                                            {"IMPLEMENTATION", "implementation"}};

const std::vector<Column> kSessionColumns = {{"ID", "id"},
                                             {"CREATED", "created_at"},
                                             {"FORE_SLOTS", "fore_slots"},
                                             {"BACK_SLOTS", "back_slots"},
                                             {"FORE_CONNS", "fore_connections"},
                                             {"BACK_CONNS", "back_connections"},
                                             {"IN_USE", "slots_in_use"},
                                             {"FLAGS", "flags"}};

// The API matches ids with [0-9a-fA-F]+ and answers anything else as an unknown endpoint;
// saying so here is clearer.
std::string checked_hex(const std::string& id, const char* what) {
  if (id.empty() || id.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    throw usage_error(std::string(what) + " '" + id +
                      "' is not hexadecimal (copy it from `dfsctl client list`)");
  }
  return id;
}

std::string client_path(const std::string& id) {
  return "/api/v1/clients/" + checked_hex(id, "client id");
}

struct ClientOptions {
  std::string id;
  std::string session;
};

}  // namespace

void add_client_commands(CLI::App& app, Context& ctx) {
  auto* client = app.add_subcommand("client", "Inspect and evict NFS clients");
  client->require_subcommand(1);

  client->add_subcommand("list", "List NFS clients")->callback([&ctx] {
    ctx.printer().list(ctx.client().call("GET", "/api/v1/clients"), kClientColumns);
  });

  auto show = std::make_shared<ClientOptions>();
  auto* sh = client->add_subcommand("show", "Show one client");
  sh->add_option("id", show->id, "client id (hex)")->required();
  sh->callback(
      [show, &ctx] { ctx.printer().object(ctx.client().call("GET", client_path(show->id))); });

  auto evict = std::make_shared<ClientOptions>();
  auto* ev = client->add_subcommand("evict", "Drop a client's state and close its connections");
  ev->add_option("id", evict->id, "client id (hex)")->required();
  ev->callback([evict, &ctx] {
    ctx.client().call("DELETE", client_path(evict->id));
    ctx.printer().message("Client " + evict->id + " evicted");
  });

  auto* sessions = client->add_subcommand("sessions", "A client's NFSv4.1 sessions");
  sessions->require_subcommand(1);

  auto ls = std::make_shared<ClientOptions>();
  auto* sl = sessions->add_subcommand("list", "List a client's sessions");
  sl->add_option("id", ls->id, "client id (hex)")->required();
  sl->callback([ls, &ctx] {
    ctx.printer().list(ctx.client().call("GET", client_path(ls->id) + "/sessions"),
                       kSessionColumns);
  });

  auto destroy = std::make_shared<ClientOptions>();
  auto* sd = sessions->add_subcommand("destroy", "Destroy one session of a client");
  sd->add_option("id", destroy->id, "client id (hex)")->required();
  sd->add_option("sid", destroy->session, "session id (hex)")->required();
  sd->callback([destroy, &ctx] {
    ctx.client().call("DELETE", client_path(destroy->id) + "/sessions/" +
                                    checked_hex(destroy->session, "session id"));
    ctx.printer().message("Session " + destroy->session + " of client " + destroy->id +
                          " destroyed");
  });
}

}  // namespace dfs::cli
