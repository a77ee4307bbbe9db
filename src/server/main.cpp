// dfs: the DittoFS NFS server daemon.

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <iostream>

#include <spdlog/spdlog.h>

#include "server/daemon.h"
#include "util/build_info.h"

int main(int argc, char** argv) {
  dfs::server::Config config;
  CLI::App app{"dfs - DittoFS NFSv4.1 server"};
  std::string config_path, log_level, data_dir;
  std::vector<std::string> listen;
  int port = -1, api_port = -1, metrics_port = -1;
  app.add_option("-c,--config", config_path, "YAML configuration file");
  app.add_option("--listen", listen,
                 "address to listen on; repeat or separate with commas for several "
                 "(default 0.0.0.0)")
      ->delimiter(',');
  app.add_option("-p,--port", port, "NFS port (default 12049)")->check(CLI::Range(0, 65535));
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error");
  app.add_option("--data-dir", data_dir, "control database and secrets directory");
  app.add_option("--api-port", api_port, "REST API port on 127.0.0.1 (default 8080, 0 = any)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--metrics-port", metrics_port, "metrics port (default 9090, 0 = any)")
      ->check(CLI::Range(0, 65535));
  app.set_version_flag("--version",
                       std::string(dfs::build::kVersion) + " (" + dfs::build::kGitRevision + ")");
  CLI11_PARSE(app, argc, argv);

  try {
    if (!config_path.empty()) dfs::server::load_config_file(config_path, config);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dfs: %s\n", e.what());
    return 2;
  }
  if (!listen.empty()) config.listen_addresses = listen;
  if (port >= 0) config.port = static_cast<uint16_t>(port);
  if (api_port >= 0) config.api.port = static_cast<uint16_t>(api_port);
  if (metrics_port >= 0) config.metrics.port = static_cast<uint16_t>(metrics_port);
  if (!data_dir.empty()) config.data_dir = data_dir;
  if (!log_level.empty()) config.log_level = log_level;
  auto level = spdlog::level::from_str(config.log_level);
  if (level == spdlog::level::off && config.log_level != "off") {
    std::fprintf(stderr, "dfs: unknown log level '%s'\n", config.log_level.c_str());
    return 2;
  }
  spdlog::set_level(level);

  // Signals are taken synchronously by this thread; every other thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  spdlog::info("dfs {} ({}) starting", dfs::build::kVersion, dfs::build::kGitRevision);
  dfs::server::Daemon daemon(config);
  try {
    daemon.start();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  for (const auto& share : daemon.ns().shares()) {
    spdlog::info("mount with: mount -t nfs4 -o vers=4.1,port={} <this-host>:{} /mnt", daemon.port(),
                 share.path);
  }
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {} received, shutting down", sig);
  daemon.stop();
  spdlog::info("stopped");
  return 0;
}
