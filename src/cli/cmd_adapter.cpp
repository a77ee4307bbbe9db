// dfsctl adapter settings nfs show | update | reset: /api/v1/adapters/nfs/settings.

#include <CLI/CLI.hpp>
#include <map>
#include <memory>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/errors.h"
#include "cli/settings_fields.h"

namespace dfs::cli {
namespace {

constexpr const char* kSettingsPath = "/api/v1/adapters/nfs/settings";

// One flag per settings field; the values stay text until the command runs so a bad one is
// reported with its flag name rather than as CLI11's generic conversion error.
struct UpdateOptions {
  std::map<std::string, std::string> values;  // field -> text
  std::vector<std::pair<const SettingSpec*, CLI::Option*>> flags;
};

std::string flag_help(const SettingSpec& s) {
  if (s.kind == SettingKind::kBool) return std::string(s.help) + " (true|false)";
  return std::string(s.help) + " (" + std::to_string(s.min) + ".." + std::to_string(s.max) + ")";
}

// PATCH and reset both answer {"settings": {...}, "restart_required": [...]}.
void print_change(Context& ctx, const nlohmann::json& reply) {
  Printer p = ctx.printer();
  if (p.format() != Format::kTable) return p.document(reply);
  p.object(reply.value("settings", nlohmann::json::object()), "SETTING");
  const auto restart = reply.value("restart_required", nlohmann::json::array());
  if (restart.is_array() && !restart.empty()) {
    ctx.err() << "dfsctl: note: restart dfs for these to take effect: " << cell_text(restart)
              << "\n";
  }
}

}  // namespace

void add_adapter_commands(CLI::App& app, Context& ctx) {
  auto* adapter = app.add_subcommand("adapter", "Configure protocol adapters");
  adapter->require_subcommand(1);
  auto* settings = adapter->add_subcommand("settings", "Adapter settings");
  settings->require_subcommand(1);
  auto* nfs = settings->add_subcommand("nfs", "NFS adapter settings (live, no restart)");
  nfs->require_subcommand(1);

  auto defaults = std::make_shared<bool>(false);
  auto* show = nfs->add_subcommand("show", "Show the current settings");
  show->add_flag("--defaults", *defaults, "show the built-in defaults instead");
  show->callback([defaults, &ctx] {
    const std::string path = std::string(kSettingsPath) + (*defaults ? "/defaults" : "");
    ctx.printer().object(ctx.client().call("GET", path), "SETTING");
  });

  auto u = std::make_shared<UpdateOptions>();
  auto* update =
      nfs->add_subcommand("update", "Change some settings (the others keep their value)");
  for (const auto& spec : nfs_setting_specs()) {
    auto* opt = update->add_option("--" + flag_for_field(spec.field), u->values[spec.field],
                                   flag_help(spec));
    opt->type_name(spec.kind == SettingKind::kBool ? "BOOL" : "N");
    u->flags.emplace_back(&spec, opt);
  }
  update->callback([u, &ctx] {
    nlohmann::json changes = nlohmann::json::object();
    for (const auto& [spec, opt] : u->flags) {
      if (opt->count() > 0)
        changes[spec->field] = parse_setting_value(*spec, u->values[spec->field]);
    }
    if (changes.empty()) {
      throw usage_error("nothing to update: give at least one setting, e.g. --lease-time 60");
    }
    print_change(ctx, ctx.client().call("PATCH", kSettingsPath, changes));
  });

  auto which = std::make_shared<std::string>();
  auto* reset = nfs->add_subcommand("reset", "Reset all settings, or one, to the defaults");
  reset->add_option("--setting", *which, "only this setting (e.g. lease_time or lease-time)");
  reset->callback([which, &ctx] {
    std::string path = std::string(kSettingsPath) + "/reset";
    if (!which->empty()) path += "?setting=" + encode_path_segment(field_for_flag(*which));
    print_change(ctx, ctx.client().call("POST", path));
  });
}

}  // namespace dfs::cli
