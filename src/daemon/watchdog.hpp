// The systemd watchdog: WATCHDOG=1 goes out only while every watched loop (the update loop,
// each query worker, each registry source) has made progress within its allowance.
// WatchdogMonitor is the decision, pure and driven by the caller's clock (unit-tested);
// Watchdog is the thread that asks it every half period and pings or says what is stuck.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/heartbeat.hpp"

namespace discodns::daemon {

class WatchdogMonitor {
 public:
  using Clock = std::chrono::steady_clock;

  // `floor`: no allowance is shorter (the watchdog period: a part must have moved at least
  // once between two looks, however fast its own loop).
  explicit WatchdogMonitor(Clock::duration floor = {}) : floor_(floor) {}

  // Watches `beat` (which must outlive this monitor) from `now` on. `allowance`: how long
  // the part may go without a beat before it counts as stuck (raised to the floor).
  void watch(std::string name, const common::Heartbeat& beat, Clock::duration allowance,
             Clock::time_point now);

  struct Verdict {
    bool ping = true;
    std::vector<std::string> stuck;  // "query-0 (no progress for 12 s)"
  };
  // Notes which parts advanced since the last look; ping when none is past its allowance.
  Verdict check(Clock::time_point now);

 private:
  struct Part {
    std::string name;
    const common::Heartbeat* beat;
    Clock::duration allowance;
    std::uint64_t seen;
    Clock::time_point progress_at;
  };
  Clock::duration floor_;
  std::vector<Part> parts_;
};

class Watchdog {
 public:
  using Notify = std::function<bool(std::string_view)>;
  // Starts the thread: every interval / 2, WATCHDOG=1 through `notify` when the monitor
  // says so, else a warning naming what is stuck (at most every kLogEvery).
  Watchdog(std::chrono::microseconds interval, WatchdogMonitor monitor, Notify notify);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  void stop();
  std::uint64_t withheld() const { return withheld_.load(std::memory_order_relaxed); }

  static constexpr std::chrono::seconds kLogEvery{10};

 private:
  void run(std::chrono::microseconds interval);
  void look();

  WatchdogMonitor monitor_;
  Notify notify_;
  std::atomic<std::uint64_t> withheld_{0};
  bool withholding_ = false;
  WatchdogMonitor::Clock::time_point logged_at_{};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace discodns::daemon
