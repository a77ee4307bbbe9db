#include "nfs4/service.h"

#include <random>

#include "util/build_info.h"

namespace dfs::nfs4 {

Nfs4Service::Nfs4Service(vfs::Namespace& ns_, SettingsHolder& settings_)
    : ns(ns_), settings(settings_), state(settings_) {
  std::random_device rd;
  for (auto& b : write_verifier_)
    b = static_cast<uint8_t>(rd());
  static const char* kHex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 16; ++i) {
    uint32_t v = rd();
    id += kHex[v & 15];
    id += kHex[(v >> 4) & 15];
  }
  set_instance_id(id);
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

Nfs4Service::~Nfs4Service() {
  stop();
}

void Nfs4Service::start() {
  outbound.start();
  // Near max_delegations, clients are asked to give some back (CB_RECALL_ANY, §20.6): each
  // holder keeps half of what it has, at most once a second.
  state.set_periodic_hook([this] {
    auto s = settings.get();
    // Recalls that did not get through go out again, every callback_timeout.
    send_recalls(state.recalls_to_resend(std::chrono::seconds(s->callback_timeout)));
    if (!s->delegations_enabled || s->max_delegations == 0) return;
    if (state.delegation_count() * 10 < static_cast<size_t>(s->max_delegations) * 9) return;
    for (const auto& [clientid, n] : state.delegation_holders())
      callbacks.recall_any(clientid, static_cast<uint32_t>(n / 2));
  });
  state.start();
}

void Nfs4Service::stop() {
  state.stop();
  // Ends every call still waiting while the callback service that handles them exists.
  outbound.stop();
}

void Nfs4Service::send_recalls(const std::vector<state::Recall>& recalls) {
  for (const auto& r : recalls)
    callbacks.recall(r);
}

void Nfs4Service::notify_lock_waiters(const state::FileKey& file) {
  for (const auto& n : state.take_lock_waiters(file))
    callbacks.notify_lock(n);
}

void Nfs4Service::set_instance_id(const std::string& id) {
  // One value on every address the server listens on (§2.10.5: equal major ids and scopes
  // tell a client that two addresses reach one server, whose sessions it may trunk).
  instance_id_ = id;
  const std::string major = "dittofs:" + id;
  server_owner_.minor_id = 0;
  server_owner_.major_id.assign(major.begin(), major.end());
  server_scope_.assign(major.begin(), major.end());
}

}  // namespace dfs::nfs4
