// dfsctl client list | show | evict | drain, client sessions list | destroy: the NFS clients
// and sessions the server holds (/api/v1/clients); dfsctl connection list | show | drain: its
// NFS connections (/api/v1/connections).

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
                                            {"COURTESY", "courtesy"},
                                            {"SESSIONS", "session_count"},
                                            {"PROTECTION", "state_protection"},
                                            {"IMPLEMENTATION", "implementation"}};

const std::vector<Column> kSessionColumns = {{"ID", "id"},
                                             {"CREATED", "created_at"},
                                             {"CONNECTIONS", "connections_text"},
                                             {"FORE_SLOTS", "fore_slots"},
                                             {"BACK_SLOTS", "back_slots"},
                                             {"IN_USE", "slots_in_use"},
                                             {"CB_PATH_UP", "backchannel.path_up"},
                                             {"FLAGS", "flags"}};

const std::vector<Column> kDelegationColumns = {
    {"STATEID", "stateid"}, {"TYPE", "type"},         {"SHARE", "share"},    {"FILEID", "fileid"},
    {"SINCE", "since"},     {"RECALLED", "recalled"}, {"REVOKED", "revoked"}};

const std::vector<Column> kConnectionColumns = {{"ID", "id"},
                                                {"PEER", "peer"},
                                                {"LOCAL", "local"},
                                                {"SESSIONS", "sessions_text"},
                                                {"IDLE_S", "idle_s"},
                                                {"BYTES_IN", "bytes_in"},
                                                {"BYTES_OUT", "bytes_out"},
                                                {"DRAINING", "draining"}};

// "3 (fore 1, both 2)": a session's connections by direction, for the table only.
std::string connections_text(const nlohmann::json& session) {
  const auto& sum = session.value("connection_summary", nlohmann::json::object());
  std::string parts;
  for (const char* dir : {"fore", "back", "both"}) {
    uint64_t n = sum.value(dir, uint64_t{0});
    if (n == 0) continue;
    if (!parts.empty()) parts += ", ";
    parts += std::string(dir) + " " + std::to_string(n);
  }
  std::string out = std::to_string(sum.value("total", uint64_t{0}));
  return parts.empty() ? out : out + " (" + parts + ")";
}

// "1a2b..:both": the sessions a connection serves (first 8 hex digits of each), table only.
std::string sessions_text(const nlohmann::json& conn) {
  std::string out;
  for (const auto& s : conn.value("sessions", nlohmann::json::array())) {
    if (!out.empty()) out += ",";
    out += s.value("session", std::string()).substr(0, 8) + ":" + s.value("direction", "");
  }
  return out.empty() ? "-" : out;
}

// Adds a table-only field to each element (JSON and YAML show the API's own document).
nlohmann::json with_text(Context& ctx, nlohmann::json items, const char* key,
                         std::string (*text)(const nlohmann::json&)) {
  if (ctx.printer().format() != Format::kTable || !items.is_array()) return items;
  for (auto& item : items)
    item[key] = text(item);
  return items;
}

std::string connection_path(const std::string& id) {
  if (id.empty() || id.size() > 19 || id.find_first_not_of("0123456789") != std::string::npos) {
    throw usage_error("connection id '" + id +
                      "' is not a number (copy it from `dfsctl connection list`)");
  }
  return "/api/v1/connections/" + id;
}

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

  auto drain = std::make_shared<ClientOptions>();
  auto* dr = client->add_subcommand(
      "drain", "Close every connection of a client once its requests are answered");
  dr->add_option("id", drain->id, "client id (hex)")->required();
  dr->callback([drain, &ctx] {
    auto out = ctx.client().call("POST", client_path(drain->id) + "/drain");
    if (ctx.printer().format() != Format::kTable) return ctx.printer().document(out);
    ctx.printer().message("Client " + drain->id + ": " +
                          std::to_string(out.value("draining", nlohmann::json::array()).size()) +
                          " connection(s) draining");
  });

  auto dl = std::make_shared<ClientOptions>();
  auto* dg = client->add_subcommand("delegations", "List the delegations a client holds");
  dg->add_option("id", dl->id, "client id (hex)")->required();
  dg->callback([dl, &ctx] {
    ctx.printer().list(ctx.client().call("GET", client_path(dl->id) + "/delegations"),
                       kDelegationColumns);
  });

  auto* sessions = client->add_subcommand("sessions", "A client's NFSv4.1 sessions");
  sessions->require_subcommand(1);

  auto ls = std::make_shared<ClientOptions>();
  auto* sl = sessions->add_subcommand("list", "List a client's sessions");
  sl->add_option("id", ls->id, "client id (hex)")->required();
  sl->callback([ls, &ctx] {
    ctx.printer().list(with_text(ctx, ctx.client().call("GET", client_path(ls->id) + "/sessions"),
                                 "connections_text", connections_text),
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

void add_connection_commands(CLI::App& app, Context& ctx) {
  auto* conn = app.add_subcommand("connection", "Inspect and drain NFS connections");
  conn->require_subcommand(1);

  conn->add_subcommand("list", "List NFS connections, bound to a session or not")->callback([&ctx] {
    ctx.printer().list(with_text(ctx, ctx.client().call("GET", "/api/v1/connections"),
                                 "sessions_text", sessions_text),
                       kConnectionColumns);
  });

  auto show = std::make_shared<ClientOptions>();
  auto* sh = conn->add_subcommand("show", "Show one connection");
  sh->add_option("id", show->id, "connection id")->required();
  sh->callback(
      [show, &ctx] { ctx.printer().object(ctx.client().call("GET", connection_path(show->id))); });

  auto drain = std::make_shared<ClientOptions>();
  auto* dr = conn->add_subcommand(
      "drain", "Answer what a connection sent, then close it (the client goes on over others)");
  dr->add_option("id", drain->id, "connection id")->required();
  dr->callback([drain, &ctx] {
    auto out = ctx.client().call("POST", connection_path(drain->id) + "/drain");
    if (ctx.printer().format() != Format::kTable) return ctx.printer().document(out);
    ctx.printer().message("Connection " + drain->id + " draining");
  });
}

}  // namespace dfs::cli
