#include "nfs4/state/grace.h"

#include <spdlog/spdlog.h>

namespace dfs::nfs4::state {

void GracePeriod::begin(const std::vector<Owner>& previous, std::chrono::seconds length,
                        std::chrono::seconds max_extension) {
  std::lock_guard lock(mu_);
  extension_left_ = max_extension;
  expected_.clear();
  for (const auto& o : previous)
    expected_.insert(key(o));
  reclaimed_.clear();
  deadline_ = Clock::now() + length;
  const bool on = !expected_.empty() && length.count() > 0;
  active_.store(on, std::memory_order_release);
  if (on) {
    spdlog::info("grace period: {} s for {} clients that held state before the restart",
                 length.count(), expected_.size());
  }
}

bool GracePeriod::still_active_locked() {
  if (!active_.load(std::memory_order_relaxed)) return false;
  if (Clock::now() >= deadline_) {
    active_.store(false, std::memory_order_release);
    spdlog::info("grace period over: time is up ({} of {} clients reclaimed)", reclaimed_.size(),
                 expected_.size());
    return false;
  }
  return true;
}

bool GracePeriod::active() {
  if (!active_.load(std::memory_order_acquire)) return false;
  std::lock_guard lock(mu_);
  return still_active_locked();
}

bool GracePeriod::may_reclaim(const Owner& owner) {
  if (!active_.load(std::memory_order_acquire)) return false;
  std::lock_guard lock(mu_);
  if (!still_active_locked() || !expected_.contains(key(owner)) ||
      reclaimed_.contains(key(owner))) {
    return false;
  }
  constexpr auto kStep = std::chrono::seconds(1);
  if (deadline_ - Clock::now() < kStep && extension_left_ >= kStep) {
    deadline_ += kStep;
    extension_left_ -= kStep;
  }
  return true;
}

void GracePeriod::reclaimed(const Owner& owner) {
  if (!active_.load(std::memory_order_acquire)) return;
  std::lock_guard lock(mu_);
  if (!still_active_locked() || !expected_.contains(key(owner))) return;
  reclaimed_.insert(key(owner));
  if (reclaimed_.size() == expected_.size()) {
    active_.store(false, std::memory_order_release);
    spdlog::info("grace period over: every client that held state has reclaimed");
  }
}

void GracePeriod::end(const char* why) {
  std::lock_guard lock(mu_);
  if (active_.exchange(false)) spdlog::info("grace period over: {}", why);
}

GracePeriod::Status GracePeriod::status() {
  std::lock_guard lock(mu_);
  Status s;
  s.active = still_active_locked();
  s.clients_expected = expected_.size();
  s.clients_reclaimed = reclaimed_.size();
  if (s.active) {
    s.remaining_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(deadline_ - Clock::now()).count();
  }
  return s;
}

}  // namespace dfs::nfs4::state
