// Host-side helper for the kernel-client tests: writes a file over NFSv4.1 with the project's
// own client, as a second client would, retrying OPEN while the server answers NFS4ERR_DELAY
// (it is recalling the kernel client's delegation) or NFS4ERR_GRACE (it restarted and the
// kernel client is reclaiming).
//
//   nfs_write PORT PATH CONTENT     (PATH inside the server's namespace, e.g. /export/d/f)
// Exit status 0 when the content was written (FILE_SYNC) and the file closed.

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "client/nfs_client.h"
#include "nfs4_test_util.h"

int main(int argc, char** argv) {
  using namespace dfs::testing;
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s PORT PATH CONTENT\n", argv[0]);
    return 2;
  }
  const auto port = static_cast<uint16_t>(std::stoi(argv[1]));
  const std::string path = argv[2];
  const std::string content = argv[3];
  const auto slash = path.rfind('/');
  try {
    NfsClient c("127.0.0.1", port, 0, 0);
    c.establish("host-writer");
    Fh dir = c.lookup_path(path.substr(0, slash));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    OpenOutcome o;
    int delays = 0;
    for (;;) {
      o = do_open(c, dir,
                  open_args(c, path.substr(slash + 1),
                            OPEN4_SHARE_ACCESS_BOTH | OPEN4_SHARE_ACCESS_WANT_NO_DELEG));
      if ((o.status != NFS4ERR_DELAY && o.status != NFS4ERR_GRACE) ||
          std::chrono::steady_clock::now() > deadline) {
        break;
      }
      ++delays;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (o.status != NFS4_OK) {
      std::fprintf(stderr, "nfs_write: OPEN failed: %u\n", static_cast<unsigned>(o.status));
      return 1;
    }
    // Truncate, then write the new content.
    SetattrArgs sa;
    sa.stateid = o.ok.stateid;
    sa.attrs = AttrBuilder().u64(FATTR4_SIZE, 0).build();
    if (c.call(c.builder().op(OP_PUTFH, PutFhArgs{o.fh}).op(OP_SETATTR, sa)).status != NFS4_OK) {
      std::fprintf(stderr, "nfs_write: truncate failed\n");
      return 1;
    }
    std::vector<uint8_t> data(content.begin(), content.end());
    if (c.write(o.opened(), 0, data, FILE_SYNC4) != NFS4_OK) {
      std::fprintf(stderr, "nfs_write: WRITE failed\n");
      return 1;
    }
    c.close(o.opened());
    std::printf("nfs_write: wrote %zu bytes to %s after %d DELAY/GRACE answer(s)\n", data.size(),
                path.c_str(), delays);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nfs_write: %s\n", e.what());
    return 1;
  }
}
