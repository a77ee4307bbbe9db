#include "cli/context.h"

#include "cli/errors.h"

namespace dfs::cli {

ConfigStore Context::store() const {
  return ConfigStore(config_path.empty() ? default_config_path() : config_path);
}

Printer Context::printer() {
  // The option's value was checked when parsed; table is only the fallback for safety.
  return Printer(parse_format(output).value_or(Format::kTable), out_);
}

ApiClient& Context::client() {
  if (client_) return *client_;
  const ConfigStore st = store();
  const auto saved = st.load();
  if (!saved || !saved->logged_in()) {
    throw CliError(kExitApi, "not logged in; run `dfsctl login` first");
  }
  client_ = std::make_unique<ApiClient>(saved->server);
  client_->set_tokens(
      saved->access_token, saved->refresh_token,
      [st, config = *saved](const std::string& access, const std::string& refresh) mutable {
        config.access_token = access;
        config.refresh_token = refresh;
        st.save(config);
      });
  return *client_;
}

}  // namespace dfs::cli
