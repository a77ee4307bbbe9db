#include "nfs4/state/session.h"

#include "nfs4/state/client.h"

namespace dfs::nfs4::state {

const char* direction_name(ConnDirection d) {
  switch (d) {
    case ConnDirection::kFore:
      return "fore";
    case ConnDirection::kBack:
      return "back";
    case ConnDirection::kBoth:
      return "both";
  }
  return "fore";
}

const char* unbind_reason_name(UnbindReason r) {
  switch (r) {
    case UnbindReason::kExplicit:
      return "explicit";
    case UnbindReason::kDisconnect:
      return "disconnect";
    case UnbindReason::kSessionDestroy:
      return "session_destroy";
    case UnbindReason::kReaper:
      return "reaper";
    case UnbindReason::kDrain:
      return "drain";
  }
  return "explicit";
}

Session::Session(SessionId id_, std::shared_ptr<ClientRecord> client_, ChannelAttrs fore_,
                 ChannelAttrs back_, uint32_t flags_, uint32_t cb_program_,
                 std::vector<CallbackSecParms> cb_sec_)
    : id(id_),
      client(std::move(client_)),
      fore(std::move(fore_)),
      back(std::move(back_)),
      flags(flags_),
      created_at(std::chrono::system_clock::now()),
      slots(fore.maxrequests),
      cb_program(cb_program_),
      cb_sec(std::move(cb_sec_)),
      wants_back_channel(flags_ & CREATE_SESSION4_FLAG_CONN_BACK_CHAN) {}

size_t Session::in_flight_locked() const {
  size_t n = 0;
  for (const auto& s : slots)
    n += s.in_use ? 1 : 0;
  return n;
}

bool Session::has_back_channel_locked() const {
  for (const auto& [id, b] : connections) {
    if (has_back(b.dir) && !b.conn.expired()) return true;
  }
  return false;
}

size_t Session::fore_connections_locked() const {
  size_t n = 0;
  for (const auto& [id, b] : connections)
    n += has_fore(b.dir) ? 1 : 0;
  return n;
}

}  // namespace dfs::nfs4::state
