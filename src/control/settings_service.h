#pragma once
// The NFS adapter settings behind the API: current values (configuration file, then changes
// stored in the control database), validated changes applied live and persisted.

#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "control/control_db.h"
#include "control/settings_model.h"
#include "nfs4/settings.h"

namespace dfs::control {

class SettingsService {
 public:
  // `apply` pushes a new snapshot to whatever caches settings outside the holder (the
  // transport's record limit).
  SettingsService(ControlDb& db, nfs4::SettingsHolder& holder,
                  std::function<void(const nfs4::Settings&)> apply);

  // Applies the values stored by earlier API changes over the configured ones.
  void load();
  nlohmann::json current() const;
  static nlohmann::json defaults();

  struct Outcome {
    std::optional<ValidationError> error;
    nlohmann::json body;  // {"settings": ..., "restart_required": [...]}
  };
  Outcome change(const nlohmann::json& changes, bool require_all);
  // All fields, or the named one, back to the built-in defaults; error for an unknown name.
  Outcome reset(const std::optional<std::string>& field);

 private:
  Outcome commit(const nfs4::Settings& before, const nfs4::Settings& after);

  ControlDb& db_;
  nfs4::SettingsHolder& holder_;
  std::function<void(const nfs4::Settings&)> apply_;
  std::mutex mu_;  // one change at a time
};

}  // namespace dfs::control
