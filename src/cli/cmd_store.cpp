// dfsctl store metadata|block list | show | add | remove: /api/v1/stores/{metadata,block}
// (named stores that shares keep their metadata and content in).

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/context.h"

namespace dfs::cli {
namespace {

const std::vector<Column> kStoreColumns = {{"NAME", "name"},
                                           {"TYPE", "type"},
                                           {"DIRECTORY", "directory"},
                                           {"SHARES", "shares"},
                                           {"SOURCE", "source"}};

struct StoreOptions {
  std::string name;
  std::string type;
  std::string directory;
};

// `kind`: metadata or block (the API path and the subcommand); `share_flag`: the share
// create flag that names a store of this kind.
void add_kind(CLI::App& store, Context& ctx, const std::string& kind, const std::string& share_flag,
              const std::string& types) {
  const std::string base = "/api/v1/stores/" + kind;
  auto* group = store.add_subcommand(kind, "Named " + kind + " stores");
  group->require_subcommand(1);

  group->add_subcommand("list", "List " + kind + " stores and the shares using each")
      ->callback(
          [&ctx, base] { ctx.printer().list(ctx.client().call("GET", base), kStoreColumns); });

  auto show = std::make_shared<StoreOptions>();
  auto* sh = group->add_subcommand("show", "Show one " + kind + " store");
  sh->add_option("name", show->name, "store name")->required();
  sh->callback([show, &ctx, base] {
    ctx.printer().object(ctx.client().call("GET", base + "/" + encode_path_segment(show->name)));
  });

  auto o = std::make_shared<StoreOptions>();
  auto* add = group->add_subcommand(
      "add", "Add a " + kind + " store; shares name it with share create --" + share_flag);
  add->add_option("name", o->name, "store name")->required();
  add->add_option("--type", o->type, "store type: " + types)->required();
  add->add_option("--dir", o->directory,
                  "directory on the server for a durable type; each share gets one under it "
                  "(default: <data_dir>/stores/" +
                      kind + "/<name>)");
  add->callback([o, &ctx, base] {
    nlohmann::json body = {{"name", o->name}, {"type", o->type}};
    if (!o->directory.empty()) body["directory"] = o->directory;
    ctx.printer().object(ctx.client().call("POST", base, body));
  });

  auto rm = std::make_shared<StoreOptions>();
  auto* rmc = group->add_subcommand(
      "remove", "Forget a " + kind + " store no share uses (its data stays on disk)");
  rmc->add_option("name", rm->name, "store name")->required();
  rmc->callback([rm, &ctx, base] {
    ctx.client().call("DELETE", base + "/" + encode_path_segment(rm->name));
    ctx.printer().message("Store " + rm->name + " removed");
  });
}

}  // namespace

void add_store_commands(CLI::App& app, Context& ctx) {
  auto* store = app.add_subcommand("store", "Manage named metadata and block stores");
  store->require_subcommand(1);
  add_kind(*store, ctx, "metadata", "metadata", "rocksdb or memory");
  add_kind(*store, ctx, "block", "blocks", "fs or memory");
}

}  // namespace dfs::cli
