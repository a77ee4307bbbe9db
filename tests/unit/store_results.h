#pragma once
// Helpers for tests of the metadata stores: unwrapping the Results a MetadataStore answers
// when the store is not expected to fail (a failure fails the test and yields an empty
// value instead of being dereferenced), and records to fill a store with.

#include <gtest/gtest.h>

#include <optional>
#include <utility>

#include "vfs/metadata_store.h"
#include "vfs/types.h"

namespace dfs::vfs {

// The value of a call that must succeed.
template <class T>
T ok(Result<T> r) {
  EXPECT_TRUE(r.ok()) << "store call failed: " << to_string(r.status());
  return r.ok() ? std::move(*r) : T{};
}

// get and lookup as optionals: absence (kStale, kNoEnt) is nullopt, any other status fails
// the test.
template <class T>
std::optional<T> found(Result<T> r) {
  if (r.ok()) return std::move(*r);
  EXPECT_TRUE(r.status() == Status::kStale || r.status() == Status::kNoEnt)
      << "store call failed: " << to_string(r.status());
  return std::nullopt;
}

// A regular file's record with the given id (mode 0644, one link), for filling stores.
inline InodeRecord file_record(InodeId id) {
  InodeRecord r;
  r.id = id;
  r.type = FileType::kRegular;
  r.mode = 0644;
  r.nlink = 1;
  return r;
}

}  // namespace dfs::vfs
