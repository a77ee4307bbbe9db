// dfsctl share list | show | create | update | delete: /api/v1/shares (NFS exports).

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/errors.h"

namespace dfs::cli {
namespace {

const std::vector<Column> kShareColumns = {{"NAME", "name"},
                                           {"PATH", "path"},
                                           {"METADATA", "metadata_store"},
                                           {"BLOCKS", "block_store"},
                                           {"READ_ONLY", "read_only"},
                                           {"ROOT_SQUASH", "root_squash"},
                                           {"ALL_SQUASH", "all_squash"},
                                           {"ANON_UID", "anon_uid"},
                                           {"ANON_GID", "anon_gid"},
                                           {"HOSTS", "allowed_hosts"},
                                           {"USERS", "allowed_users"},
                                           {"SOURCE", "source"}};

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
  bool all_squash = false;
  std::optional<uint32_t> anon_uid;
  std::optional<uint32_t> anon_gid;
  std::vector<std::string> allowed_hosts;
  std::vector<std::string> allowed_users;
};

// What `share update` may change; a flag not given leaves the field as the server has it.
struct ShareUpdate {
  std::string name;
  bool root_squash = false;
  bool no_root_squash = false;
  bool all_squash = false;
  bool no_all_squash = false;
  std::optional<uint32_t> anon_uid;
  std::optional<uint32_t> anon_gid;
  std::vector<std::string> allowed_hosts;
  bool any_host = false;
  std::vector<std::string> allowed_users;
  bool any_user = false;
};

// Only what the user gave goes into the body, so the server's defaults (root_squash on,
// the durable built-in stores) stay the server's to decide.
nlohmann::json create_body(const ShareOptions& o) {
  nlohmann::json body = {{"name", o.name}, {"path", o.path}};
  if (!o.metadata_store.empty()) body["metadata_store"] = o.metadata_store;
  if (!o.block_store.empty()) body["block_store"] = o.block_store;
  if (o.read_only) body["read_only"] = true;
  if (o.no_root_squash) body["root_squash"] = false;
  if (o.all_squash) body["all_squash"] = true;
  if (o.anon_uid) body["anon_uid"] = *o.anon_uid;
  if (o.anon_gid) body["anon_gid"] = *o.anon_gid;
  if (!o.allowed_hosts.empty()) body["allowed_hosts"] = o.allowed_hosts;
  if (!o.allowed_users.empty()) body["allowed_users"] = o.allowed_users;
  return body;
}

nlohmann::json update_body(const ShareUpdate& u) {
  nlohmann::json body = nlohmann::json::object();
  if (u.root_squash) body["root_squash"] = true;
  if (u.no_root_squash) body["root_squash"] = false;
  if (u.all_squash) body["all_squash"] = true;
  if (u.no_all_squash) body["all_squash"] = false;
  if (u.anon_uid) body["anon_uid"] = *u.anon_uid;
  if (u.anon_gid) body["anon_gid"] = *u.anon_gid;
  if (!u.allowed_hosts.empty()) body["allowed_hosts"] = u.allowed_hosts;
  if (u.any_host) body["allowed_hosts"] = nlohmann::json::array();
  if (!u.allowed_users.empty()) body["allowed_users"] = u.allowed_users;
  if (u.any_user) body["allowed_users"] = nlohmann::json::array();
  return body;
}

// The anonymous ids the server accepts: (uint32_t)-1 is no id.
const auto kIdRange = CLI::Range(uint32_t{0}, uint32_t{4294967294u});

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
  cr->add_option("--metadata,--metadata-store", o->metadata_store,
                 "metadata store by name: rocksdb, memory or one from `dfsctl store metadata "
                 "list` (server default: rocksdb)");
  cr->add_option("--blocks,--block-store", o->block_store,
                 "block store by name: fs, memory or one from `dfsctl store block list` (server "
                 "default: fs)");
  cr->add_flag("--read-only", o->read_only, "export read-only");
  cr->add_flag("--no-root-squash", o->no_root_squash,
               "let client root act as root (default: uid, gid and group 0 become the anon ids)");
  cr->add_flag("--all-squash", o->all_squash, "map every user and group to the anon ids");
  cr->add_option("--anon-uid", o->anon_uid, "uid squashed callers act as (server default: 65534)")
      ->check(kIdRange);
  cr->add_option("--anon-gid", o->anon_gid, "gid squashed callers act as (server default: 65534)")
      ->check(kIdRange);
  cr->add_option("--allowed-host", o->allowed_hosts,
                 "address or CIDR block allowed to mount (repeatable; none = everyone)")
      ->allow_extra_args(false);
  cr->add_option("--allowed-user", o->allowed_users,
                 "user (with a uid) allowed in (repeatable; none = everyone)")
      ->allow_extra_args(false);
  cr->callback([o, &ctx] {
    ctx.printer().object(ctx.client().call("POST", "/api/v1/shares", create_body(*o)));
  });

  auto u = std::make_shared<ShareUpdate>();
  auto* up = share->add_subcommand(
      "update", "Change a share's squashing and access lists (applies to clients at once)");
  up->add_option("name", u->name, "share name")->required();
  auto* rs =
      up->add_flag("--root-squash", u->root_squash, "map uid, gid and group 0 to the anon ids");
  up->add_flag("--no-root-squash", u->no_root_squash, "let client root act as root")->excludes(rs);
  auto* as =
      up->add_flag("--all-squash", u->all_squash, "map every user and group to the anon ids");
  up->add_flag("--no-all-squash", u->no_all_squash, "stop mapping every user")->excludes(as);
  up->add_option("--anon-uid", u->anon_uid, "uid squashed callers act as")->check(kIdRange);
  up->add_option("--anon-gid", u->anon_gid, "gid squashed callers act as")->check(kIdRange);
  auto* ah =
      up->add_option("--allowed-host", u->allowed_hosts,
                     "address or CIDR block allowed to mount (repeatable; replaces the list)")
          ->allow_extra_args(false);
  up->add_flag("--any-host", u->any_host, "let every host mount (clears the list)")->excludes(ah);
  auto* au = up->add_option("--allowed-user", u->allowed_users,
                            "user (with a uid) allowed in (repeatable; replaces the list)")
                 ->allow_extra_args(false);
  up->add_flag("--any-user", u->any_user, "let every user in (clears the list)")->excludes(au);
  up->callback([u, &ctx] {
    auto body = update_body(*u);
    if (body.empty()) {
      throw usage_error("nothing to update: give at least one option, e.g. --no-root-squash");
    }
    ctx.printer().object(ctx.client().call("PATCH", share_path(u->name), body));
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
