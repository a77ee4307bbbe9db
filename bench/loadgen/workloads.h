#pragma once
// The workloads of dfs_loadgen. Each one sets up what it needs (untimed), runs one or more
// timed phases on every connection at once, and removes what it created (untimed).

#include <cstdint>
#include <string>
#include <vector>

#include "driver.h"

namespace dfs::bench {

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 2049;
  std::string export_path = "/export";
  std::string workload;
  uint32_t connections = 4;
  uint32_t depth = 16;            // slots per session = requests in flight per connection
  double duration = 10;           // seconds, for the time-bounded phases
  uint64_t size = 0;              // bytes; 0 = the workload's default
  uint32_t io_size = 0;           // bytes per READ/WRITE; 0 = the workload's default
  uint64_t entries = 100000;      // bigdir
  uint32_t dirs = 32;             // metadata, smallfile: directories the files are spread over
  uint32_t readdir_size = 65536;  // READDIR dircount/maxcount
  uint32_t uid = 0;
  uint32_t gid = 0;
  int server_pid = 0;  // when set, each phase also reports the server's CPU time
  bool json = false;
};

struct WorkloadResult {
  std::vector<PhaseResult> phases;  // the timed ones
  uint32_t depth_granted = 0;       // slots the server granted (smallest over sessions)
  uint32_t io_size = 0;             // READ/WRITE size used, after the server's limits
  uint64_t size = 0;                // data size used
  std::vector<std::string> notes;   // things a reader of the numbers should know
  std::string error;                // set when the workload could not run at all
};

const std::vector<std::string>& workload_names();
WorkloadResult run_workload(const Options& opt);

}  // namespace dfs::bench
