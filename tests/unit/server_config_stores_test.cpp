// The stores part of the configuration file: named metadata and block stores, and errors
// that name the entry and the key.

#include <gtest/gtest.h>

#include "config_file_fixture.h"

namespace dfs::server {
namespace {

using ConfigStoresTest = ConfigFileTest;

TEST_F(ConfigStoresTest, NamedStoresAndSharesThatUseThem) {
  Config c = load(R"(
stores:
  metadata:
    - name: fast
      type: rocksdb
      directory: /ssd/dittofs
  blocks:
    - name: bulk
      type: fs
      directory: /hdd/dittofs
    - name: scratch
      type: memory
shares:
  - path: /data
    metadata: fast
    blocks: bulk
)");
  ASSERT_EQ(c.metadata_stores.size(), 1u);
  EXPECT_EQ(c.metadata_stores[0].name, "fast");
  EXPECT_EQ(c.metadata_stores[0].type, "rocksdb");
  EXPECT_EQ(c.metadata_stores[0].directory, "/ssd/dittofs");
  ASSERT_EQ(c.block_stores.size(), 2u);
  EXPECT_EQ(c.block_stores[1].name, "scratch");
  EXPECT_EQ(c.block_stores[1].directory, "");
  EXPECT_EQ(c.shares.at(0).metadata_store, "fast");
  EXPECT_EQ(c.shares.at(0).block_store, "bulk");
}

TEST_F(ConfigStoresTest, NoStoresByDefault) {
  Config c;
  EXPECT_TRUE(c.metadata_stores.empty());
  EXPECT_TRUE(c.block_stores.empty());
  EXPECT_EQ(c.shares.at(0).metadata_store, "rocksdb");
  EXPECT_EQ(c.shares.at(0).block_store, "fs");
}

// The free-space floor of the durable stores: unset keeps the stores' default, 0 turns it
// off, a number is bytes.
TEST_F(ConfigStoresTest, FreeSpaceFloor) {
  EXPECT_FALSE(load("port: 2049\n").free_space_floor_bytes.has_value());
  EXPECT_EQ(load("free_space_floor_bytes: 0\n").free_space_floor_bytes, uint64_t{0});
  EXPECT_EQ(load("free_space_floor_bytes: 268435456\n").free_space_floor_bytes,
            uint64_t{268435456});
}

TEST_F(ConfigStoresTest, MistakesAreNamed) {
  EXPECT_NE(error("stores:\n  block:\n    - {name: a, type: fs}\n").find("unknown key 'block'"),
            std::string::npos);
  EXPECT_NE(error("stores:\n  blocks:\n    - {name: a, type: fs, dir: /x}\n")
                .find("stores.blocks[0]: unknown key 'dir'"),
            std::string::npos);
  EXPECT_NE(error("stores:\n  metadata:\n    - {type: rocksdb}\n").find("needs a name and a type"),
            std::string::npos);
  EXPECT_NE(error("stores:\n  metadata: fast\n").find("must be a list"), std::string::npos);
  EXPECT_NE(error("stores: [1]\n").find("stores must be a map"), std::string::npos);
}

}  // namespace
}  // namespace dfs::server
