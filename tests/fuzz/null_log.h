#pragma once
// Logging for fuzz targets: every level on, into a sink that drops it. The server's log
// lines quote what peers sent, so formatting them is code under test too; printing millions
// of them is not.

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

namespace dfs::fuzz {

inline void log_to_nowhere() {
  static const bool done = [] {
    auto logger =
        std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
    return true;
  }();
  (void)done;
}

}  // namespace dfs::fuzz
