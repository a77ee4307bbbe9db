#pragma once
// Unwrapping the Results a MetadataStore answers, in tests whose stores are not expected to
// fail: a failure fails the test (and yields an empty value) instead of being dereferenced.

#include <gtest/gtest.h>

#include <optional>
#include <utility>

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

}  // namespace dfs::vfs
