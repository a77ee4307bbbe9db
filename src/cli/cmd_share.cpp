// dfsctl share list | show | create | delete: /api/v1/shares (NFS exports).

#include <CLI/CLI.hpp>
#include <memory>

#include "cli/commands.h"
#include "cli/context.h"

namespace dfs::cli {
namespace {

const std::vector<Column> kShareColumns = {
    {"NAME", "name"},           {"PATH", "path"},           {"METADATA", "metadata_store"},
    {"BLOCKS", "block_store"},  {"READ_ONLY", "read_only"}, {"ROOT_SQUASH", "root_squash"},
    {"HOSTS", "allowed_hosts"}, {"USERS", "allowed_users"}, {"SOURCE", "source"}};

std::string share_path(const std::string& name) {
  return "/api/v1/shares/" + encode_path_segment(name);
}

struct ShareOptions {
  std::string name;
  std::string path;
  std::string metadata_store;
  std::string block_store;
  bool read_only = false;
  bool no_root_squash = false;
  std::vector<std::string> allowed_hosts;
  std::vector<std::string> allowed_users;
};

// Only what the user gave goes into the body, so the server's defaults (root_squash on,
// memory stores) stay the server's to decide.
nlohmann::json create_body(const ShareOptions& o) {
  nlohmann::json body = {{"name", o.name}, {"path", o.path}};
  if (!o.metadata_store.empty()) body["metadata_store"] = o.metadata_store;
  if (!o.block_store.empty()) body["block_store"] = o.block_store;
  if (o.read_only) body["read_only"] = true;
  if (o.no_root_squash) body["root_squash"] = false;
  if (!o.allowed_hosts.empty()) body["allowed_hosts"] = o.allowed_hosts;
  if (!o.allowed_users.empty()) body["allowed_users"] = o.allowed_users;
  return body;
}

}  // namespace

void add_share_commands(CLI::App& app, Context& ctx) {
  auto* share = app.add_subcommand("share", "Manage NFS shares (exports)");
  share->require_subcommand(1);

  share->add_subcommand("list", "List shares")->callback([&ctx] {
    ctx.printer().list(ctx.client().call("GET", "/api/v1/shares"), kShareColumns);
  });

  auto show = std::make_shared<ShareOptions>();
  auto* sh = share->add_subcommand("show", "Show one share");
  sh->add_option("name", show->name, "share name")->required();
  sh->callback(
      [show, &ctx] { ctx.printer().object(ctx.client().call("GET", share_path(show->name))); });

  auto o = std::make_shared<ShareOptions>();
  auto* cr = share->add_subcommand("create", "Create a share and mount it in the pseudo-root");
  cr->add_option("name", o->name, "share name")->required();
  cr->add_option("--path", o->path, "where the share appears in the NFS pseudo-root, e.g. /data")
      ->required();
  cr->add_option("--metadata-store", o->metadata_store, "metadata store (server default: memory)");
  cr->add_option("--block-store", o->block_store, "block store (server default: memory)");
  cr->add_flag("--read-only", o->read_only, "export read-only");
  cr->add_flag("--no-root-squash", o->no_root_squash, "do not map uid 0 to 65534");
  cr->add_option("--allowed-host", o->allowed_hosts,
                 "address or CIDR block allowed to mount (repeatable; none = everyone)")
      ->allow_extra_args(false);
  cr->add_option("--allowed-user", o->allowed_users,
                 "user (with a uid) allowed in (repeatable; none = everyone)")
      ->allow_extra_args(false);
  cr->callback([o, &ctx] {
    ctx.printer().object(ctx.client().call("POST", "/api/v1/shares", create_body(*o)));
  });

  auto del = std::make_shared<ShareOptions>();
  auto* dl = share->add_subcommand("delete", "Delete a share (unmounts it at once)");
  dl->add_option("name", del->name, "share name")->required();
  dl->callback([del, &ctx] {
    ctx.client().call("DELETE", share_path(del->name));
    ctx.printer().message("Share " + del->name + " deleted");
  });
}

}  // namespace dfs::cli
