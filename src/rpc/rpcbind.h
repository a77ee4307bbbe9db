#pragma once
// Registration with the local rpcbind (RFC 1833, version 4): lets rpcinfo and other RPC
// tools find the server. Best effort: a machine without rpcbind is normal for this server,
// whose clients are told the port.

#include <cstdint>
#include <string>

namespace dfs::rpc {

// Registers `program`/`version` at TCP `port` (universal address on 0.0.0.0); false if no
// rpcbind answered or it refused.
bool rpcbind_set(uint32_t program, uint32_t version, uint16_t port);
// Removes the registration made by rpcbind_set.
bool rpcbind_unset(uint32_t program, uint32_t version);

}  // namespace dfs::rpc
