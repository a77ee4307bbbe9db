#pragma once
// The NFS program (100003 version 4): the COMPOUND procedure (RFC 5661 §16.2, §2.6.3.1 for
// the SEQUENCE gate) over the operation table.

#include <memory>

#include "nfs4/service.h"
#include "rpc/dispatcher.h"

namespace dfs::nfs4 {

class Nfs4Program : public rpc::Program {
 public:
  explicit Nfs4Program(Nfs4Service& svc) : svc_(svc) {}

  uint32_t number() const override { return kProgram; }
  uint32_t min_version() const override { return kVersion; }
  uint32_t max_version() const override { return kVersion; }
  rpc::AcceptStat call(rpc::CallContext& ctx, xdr::Decoder& args, xdr::Encoder& results) override;
  // Large WRITE data goes straight into block-store buffers (placement.h).
  std::shared_ptr<xdr::OutOfLineBytes> place(uint32_t version, uint32_t procedure,
                                             xdr::Decoder& args, size_t args_length) override;
  void on_disconnect(const std::shared_ptr<rpc::Connection>& conn) override;

 private:
  Nfs4Service& svc_;
};

}  // namespace dfs::nfs4
