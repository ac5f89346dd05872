#include "daemon/watchdog.hpp"

#include <algorithm>
#include <utility>

#include "common/guarded_loop.hpp"
#include "common/log.hpp"
#include "common/thread_priority.hpp"

namespace discodns::daemon {

void WatchdogMonitor::watch(std::string name, const common::Heartbeat& beat,
                            Clock::duration allowance, Clock::time_point now) {
  parts_.push_back({std::move(name), &beat, std::max(allowance, floor_), beat.count(), now});
}

WatchdogMonitor::Verdict WatchdogMonitor::check(Clock::time_point now) {
  Verdict verdict;
  for (Part& part : parts_) {
    std::uint64_t beats = part.beat->count();
    if (beats != part.seen) {
      part.seen = beats;
      part.progress_at = now;
      continue;
    }
    auto idle = now - part.progress_at;
    if (idle <= part.allowance) continue;
    verdict.ping = false;
    verdict.stuck.push_back(
        part.name + " (no progress for " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(idle).count()) + " s)");
  }
  return verdict;
}

Watchdog::Watchdog(std::chrono::microseconds interval, WatchdogMonitor monitor, Notify notify)
    : monitor_(std::move(monitor)), notify_(std::move(notify)) {
  thread_ = std::thread([this, interval] {
    common::name_current_thread("dd-watchdog");
    run(interval);
  });
}

Watchdog::~Watchdog() {
  stop();
}

void Watchdog::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Watchdog::run(std::chrono::microseconds interval) {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval / 2, [this] { return stopping_; })) {
    lock.unlock();
    common::guarded_pass(common::BackgroundThread::kWatchdog, [this] { look(); });
    lock.lock();
  }
}

void Watchdog::look() {
  auto now = WatchdogMonitor::Clock::now();
  WatchdogMonitor::Verdict verdict = monitor_.check(now);
  if (verdict.ping) {
    if (withholding_) spdlog::warn("watchdog: every loop progresses again; pinging systemd");
    withholding_ = false;
    notify_("WATCHDOG=1");
    return;
  }
  withheld_.fetch_add(1, std::memory_order_relaxed);
  if (withholding_ && now - logged_at_ < kLogEvery) return;
  withholding_ = true;
  logged_at_ = now;
  std::string parts;
  for (const auto& s : verdict.stuck)
    parts += (parts.empty() ? "" : ", ") + s;
  spdlog::error("watchdog: not pinging systemd (it will restart us): stuck: {}", parts);
}

}  // namespace discodns::daemon
