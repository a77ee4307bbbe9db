#pragma once
// Per-thread cells for values many threads update and few read (counters, histograms): each
// thread adds into its own cache line, and a reader sums the cells. On a many-core server a
// single shared atomic that every reactor increments per request makes the cores take turns
// owning one cache line; with cells they never touch each other's.
//
// A thread gets its cell index on first use, in order, so the first cell_count() threads to
// use cells (the reactors, which start first and update metrics on every request) each have
// their own; later threads share cells, which stays correct because cells are atomics.

#include <cstddef>
#include <cstdint>

namespace dfs::util {

// Cache line size assumed for padding (x86-64 and most arm64).
inline constexpr size_t kCacheLine = 64;

// How many cells each cell array has: twice the CPUs rounded up to a power of two, at most
// 256. Fixed for the process's life.
size_t cell_count();
// Picks the calling thread's cell (once per thread).
size_t assign_cell();
// The calling thread's cell, in [0, cell_count()): one thread-local load on the hot path.
inline size_t this_cell() {
  thread_local size_t cell = SIZE_MAX;
  if (cell == SIZE_MAX) [[unlikely]]
    cell = assign_cell();
  return cell;
}

}  // namespace dfs::util
