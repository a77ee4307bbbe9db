#include "control/settings_service.h"

#include <spdlog/spdlog.h>

namespace dfs::control {

SettingsService::SettingsService(ControlDb& db, nfs4::SettingsHolder& holder,
                                 std::function<void(const nfs4::Settings&)> apply)
    : db_(db), holder_(holder), apply_(std::move(apply)) {}

void SettingsService::load() {
  auto stored = db_.setting("nfs");
  if (!stored) return;
  nfs4::Settings s = *holder_.get();
  if (auto err = apply_settings(*stored, s, false)) {
    spdlog::warn("stored NFS settings ignored: {}", err->detail);
    return;
  }
  holder_.set(s);
  if (apply_) apply_(s);
}

nlohmann::json SettingsService::current() const {
  return settings_to_json(*holder_.get());
}

nlohmann::json SettingsService::defaults() {
  return settings_to_json(nfs4::Settings{});
}

SettingsService::Outcome SettingsService::commit(const nfs4::Settings& before,
                                                 const nfs4::Settings& after) {
  holder_.set(after);
  if (apply_) apply_(after);
  auto json = settings_to_json(after);
  db_.put_setting("nfs", json);
  return {std::nullopt,
          {{"settings", json}, {"restart_required", restart_required(before, after)}}};
}

SettingsService::Outcome SettingsService::change(const nlohmann::json& changes, bool require_all) {
  std::lock_guard lock(mu_);
  const nfs4::Settings before = *holder_.get();
  nfs4::Settings after = before;
  if (auto err = apply_settings(changes, after, require_all)) return {err, {}};
  return commit(before, after);
}

SettingsService::Outcome SettingsService::reset(const std::optional<std::string>& field) {
  std::lock_guard lock(mu_);
  const nfs4::Settings before = *holder_.get();
  nfs4::Settings after = before;
  const nfs4::Settings defaults;
  if (field) {
    const SettingField* f = find_setting(*field);
    if (!f) return {ValidationError{*field, "unknown setting " + *field, {}, {}}, {}};
    nlohmann::json one = {{f->name, settings_to_json(defaults)[f->name]}};
    if (auto err = apply_settings(one, after, false)) return {err, {}};
  } else {
    after = defaults;
  }
  return commit(before, after);
}

}  // namespace dfs::control
