#pragma once
// What the server tells its operator at start-up about exposure: who may mount each share
// (which addresses it listens on, which hosts and users a share admits, how client ids are
// squashed) and which settings open a share up or close it down.

#include <string>
#include <vector>

#include "control/control_db.h"

namespace dfs::server {

// One line per share, e.g. "share /export: any host that reaches 0.0.0.0:12049 (every
// address of this host) may mount it, read-write; root squashed to 65534:65534".
// `listening`: the NFS addresses as the transport prints them ("0.0.0.0:12049").
std::vector<std::string> who_may_mount(const std::vector<control::ShareRecord>& shares,
                                       const std::vector<std::string>& listening);

// The settings that change it (config keys, dfs flags, dfsctl commands), as one line.
std::string how_to_change_exposure();

}  // namespace dfs::server
