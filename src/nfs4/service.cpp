#include "nfs4/service.h"

#include <unistd.h>

#include <random>

#include "util/build_info.h"

namespace dfs::nfs4 {

Nfs4Service::Nfs4Service(vfs::Namespace& ns_, SettingsHolder& settings_)
    : ns(ns_), settings(settings_), state(settings_) {
  std::random_device rd;
  for (auto& b : write_verifier_)
    b = static_cast<uint8_t>(rd());
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  // Stable for the server's life (§2.5): clients compare them to detect trunking.
  std::string major = std::string("dittofs:") + host;
  server_owner_.minor_id = 0;
  server_owner_.major_id.assign(major.begin(), major.end());
  server_scope_.assign(major.begin(), major.end());
  impl_name_ = std::string("dittofs ") + build::kVersion;
  state.set_file_open_hook([this](const state::FileKey& key, bool opened) {
    auto fs = ns.file_system(key.fs);
    if (!fs) return;
    if (opened) {
      fs->retain(key.inode);
    } else {
      fs->release(key.inode);
    }
  });
}

}  // namespace dfs::nfs4
