#pragma once
// Structure-blind mutations for replay_main.cpp: what a fuzz target meets in the suite when
// libFuzzer is not there. Deterministic for a given seed, so a failure seen in the suite
// happens again on the next run.

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace dfs::fuzz {

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  // A copy of `base` with one to four edits: bits flipped, bytes and 32-bit words replaced
  // (words by values that make lengths, counts and enums extreme), bytes inserted, deleted or
  // duplicated, a cut at the end, or a splice with `other`. At most `max_size` bytes.
  std::vector<uint8_t> mutate(const std::vector<uint8_t>& base, const std::vector<uint8_t>& other,
                              size_t max_size);

 private:
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng_() % n); }
  void edit(std::vector<uint8_t>& m, const std::vector<uint8_t>& other);

  std::mt19937_64 rng_;
};

}  // namespace dfs::fuzz
