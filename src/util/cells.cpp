#include "util/cells.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <thread>

namespace dfs::util {

size_t cell_count() {
  static const size_t n = [] {
    size_t cpus = std::max(1u, std::thread::hardware_concurrency());
    return std::min<size_t>(256, std::bit_ceil(2 * cpus));
  }();
  return n;
}

size_t assign_cell() {
  static std::atomic<size_t> next{0};
  return next.fetch_add(1, std::memory_order_relaxed) % cell_count();
}

}  // namespace dfs::util
