#pragma once
// Turns records into calls: decodes the RPC header, authenticates, finds the program and
// version, runs the procedure and sends the reply. NULL (procedure 0) is answered here for
// every registered program. REPLY records (answers to calls this server sent on the
// backchannel) go to the reply sink.

#include <functional>
#include <map>
#include <memory>
#include <span>

#include "rpc/auth.h"
#include "rpc/connection.h"
#include "rpc/constants.h"
#include "rpc/tcp_server.h"
#include "xdr/decoder.h"
#include "xdr/encoder.h"

namespace dfs::rpc {

struct CallContext {
  uint32_t xid = 0;
  uint32_t version = 0;
  uint32_t procedure = 0;
  Credentials cred;
  const std::shared_ptr<Connection>* conn = nullptr;
  size_t record_size = 0;  // out-of-line bytes included
  // Bulk bytes of this record received out of line, and where in the record they belong.
  const xdr::OutOfLineBytes* out_of_line = nullptr;
  const uint8_t* out_of_line_at = nullptr;
  // Set by a program that will send the reply itself later (an operation waiting for a
  // callback); the dispatcher then sends nothing.
  bool reply_deferred = false;
};

class Program {
 public:
  virtual ~Program() = default;
  virtual uint32_t number() const = 0;
  virtual uint32_t min_version() const = 0;
  virtual uint32_t max_version() const = 0;
  // Decodes the arguments and encodes the results (after the accepted-reply header). Any
  // status but kSuccess discards what was encoded and sends that status instead.
  virtual AcceptStat call(CallContext& ctx, xdr::Decoder& args, xdr::Encoder& results) = 0;
  // RecordHandler::place for this program: `args` decodes the head of the arguments, which
  // are `args_length` bytes in all. The returned bytes' record_offset counts from the start
  // of the arguments.
  virtual std::shared_ptr<xdr::OutOfLineBytes> place(uint32_t version, uint32_t procedure,
                                                     xdr::Decoder& args, size_t args_length) {
    (void)version;
    (void)procedure;
    (void)args;
    (void)args_length;
    return nullptr;
  }
  virtual void on_disconnect(const std::shared_ptr<Connection>&) {}
};

class Dispatcher : public RecordHandler {
 public:
  using ReplySink = std::function<void(const std::shared_ptr<Connection>&, uint32_t xid,
                                       std::span<const uint8_t> record)>;

  void add_program(std::shared_ptr<Program> program);
  void set_reply_sink(ReplySink sink) { reply_sink_ = std::move(sink); }

  std::shared_ptr<xdr::OutOfLineBytes> place(std::span<const uint8_t> head, size_t length) override;
  void on_record(const std::shared_ptr<Connection>& conn, std::span<const uint8_t> record,
                 std::shared_ptr<xdr::OutOfLineBytes> out_of_line) override;
  void on_disconnect(const std::shared_ptr<Connection>& conn) override;

 private:
  std::map<uint32_t, std::shared_ptr<Program>> programs_;
  ReplySink reply_sink_;
};

}  // namespace dfs::rpc
