#include "rpc/rpcbind.h"

#include <chrono>
#include <stdexcept>

#include <fmt/format.h>

#include "rpc/client.h"
#include "xdr/encoder.h"

namespace dfs::rpc {
namespace {

constexpr uint32_t kRpcbProgram = 100000;
constexpr uint32_t kRpcbVersion = 4;
constexpr uint32_t kRpcbProcSet = 1;
constexpr uint32_t kRpcbProcUnset = 2;
constexpr uint16_t kRpcbPort = 111;

// struct rpcb { prog, vers, netid, addr, owner } (RFC 1833 §2.1).
bool call_rpcbind(uint32_t proc, uint32_t program, uint32_t version, const std::string& addr) {
  try {
    RpcClient client;
    client.set_timeout(std::chrono::milliseconds(2000));
    client.connect("127.0.0.1", kRpcbPort);
    client.set_auth_sys(0, 0, {}, "dfs");
    xdr::ByteBuffer args;
    xdr::Encoder e(args);
    e.u32(program);
    e.u32(version);
    e.string("tcp");
    e.string(addr);
    e.string("dfs");
    auto reply = client.call(kRpcbProgram, kRpcbVersion, proc, args.span());
    if (!reply || !reply->accepted_success()) return false;
    xdr::Decoder d(reply->body());
    bool ok = false;
    return d.boolean(ok) && ok;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

bool rpcbind_set(uint32_t program, uint32_t version, uint16_t port) {
  // Universal address of 0.0.0.0:port: "h1.h2.h3.h4.p1.p2".
  std::string uaddr = fmt::format("0.0.0.0.{}.{}", port >> 8, port & 0xff);
  call_rpcbind(kRpcbProcUnset, program, version, "");  // a stale entry from an earlier run
  return call_rpcbind(kRpcbProcSet, program, version, uaddr);
}

bool rpcbind_unset(uint32_t program, uint32_t version) {
  return call_rpcbind(kRpcbProcUnset, program, version, "");
}

}  // namespace dfs::rpc
