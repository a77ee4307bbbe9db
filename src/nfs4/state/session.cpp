#include "nfs4/state/session.h"

#include "nfs4/state/client.h"

namespace dfs::nfs4::state {

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
      cb_sec(std::move(cb_sec_)) {}

size_t Session::in_flight_locked() const {
  size_t n = 0;
  for (const auto& s : slots)
    n += s.in_use ? 1 : 0;
  return n;
}

bool Session::has_back_channel_locked() const {
  for (const auto& [id, b] : connections) {
    if ((static_cast<uint8_t>(b.dir) & static_cast<uint8_t>(ConnDirection::kBack)) &&
        !b.conn.expired()) {
      return true;
    }
  }
  return false;
}

}  // namespace dfs::nfs4::state
