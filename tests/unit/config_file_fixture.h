#pragma once
// A YAML configuration file in a temporary path, loaded the way `dfs --config` loads it: what
// the configuration-file tests share.

#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <string>

#include "server/config.h"

namespace dfs::server {

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dfs-config-test.XXXXXX";
    int fd = ::mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    ::close(fd);
    path_ = tmpl;
  }
  void TearDown() override { ::unlink(path_.c_str()); }
  Config load(const std::string& yaml) {
    std::ofstream(path_, std::ios::trunc) << yaml;
    Config c;
    load_config_file(path_, c);
    return c;
  }
  // The message load() fails with ("" if it does not).
  std::string error(const std::string& yaml) {
    try {
      load(yaml);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }
  std::string path_;
};

}  // namespace dfs::server
