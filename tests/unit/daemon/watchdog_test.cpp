// WatchdogMonitor on a manual clock: pings only while every watched loop progresses (issue 13).
#include "daemon/watchdog.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace discodns::daemon {
namespace {

using namespace std::chrono_literals;
using Clock = WatchdogMonitor::Clock;
const Clock::time_point kT0{std::chrono::hours(1)};

struct Parts {
  common::Heartbeat update, query0, query1, registry;
  WatchdogMonitor monitor{2s};  // floor: a 4 s watchdog period, looked at every 2 s
  Parts() {
    monitor.watch("update", update, 10s, kT0);
    monitor.watch("query-0", query0, 3s, kT0);
    monitor.watch("query-1", query1, 3s, kT0);
    monitor.watch("registry china", registry, 30s, kT0);
  }
  void beat_all_but(const common::Heartbeat* skip) {
    for (common::Heartbeat* b : {&update, &query0, &query1, &registry})
      if (b != skip) b->beat();
  }
};

TEST(WatchdogMonitor, PingsWhileEveryPartProgresses) {
  Parts p;
  for (int i = 1; i <= 20; ++i) {
    p.beat_all_but(nullptr);
    auto verdict = p.monitor.check(kT0 + i * 2s);
    EXPECT_TRUE(verdict.ping) << i;
    EXPECT_TRUE(verdict.stuck.empty());
  }
}

TEST(WatchdogMonitor, AStuckQueryWorkerWithholdsThePingAndIsNamed) {
  Parts p;
  auto now = kT0;
  for (int i = 0; i < 5; ++i) {
    now += 1s;
    p.beat_all_but(&p.query1);
    auto verdict = p.monitor.check(now);
    if (now - kT0 <= 3s) {
      EXPECT_TRUE(verdict.ping) << "within the worker's allowance";
    } else {
      EXPECT_FALSE(verdict.ping);
      ASSERT_EQ(verdict.stuck.size(), 1u);
      EXPECT_EQ(std::string_view(verdict.stuck[0]).substr(0, 8), "query-1 ");
    }
  }
  // It moves again: pings resume at once.
  p.beat_all_but(nullptr);
  EXPECT_TRUE(p.monitor.check(now + 1s).ping);
}

TEST(WatchdogMonitor, ProgressMustBeNewNotOnlyEverMade) {
  Parts p;
  p.beat_all_but(nullptr);
  EXPECT_TRUE(p.monitor.check(kT0 + 2s).ping);
  // The update loop wedges after that beat: its count stays high but never moves again.
  for (int i = 2; i <= 6; ++i) {
    p.beat_all_but(&p.update);
    EXPECT_TRUE(p.monitor.check(kT0 + i * 2s).ping) << i;  // up to 10 s after its last beat
  }
  p.beat_all_but(&p.update);
  auto verdict = p.monitor.check(kT0 + 14s);
  EXPECT_FALSE(verdict.ping);
  ASSERT_EQ(verdict.stuck.size(), 1u);
  EXPECT_EQ(verdict.stuck[0], "update (no progress for 12 s)");
}

TEST(WatchdogMonitor, ARegistryLoopQuietWithinItsAllowanceStillCountsAsAlive) {
  Parts p;
  // 28 s without a registry beat (a slow decode of a large fetch/all, a synchronous resolve):
  // within its 30 s, so pings continue; past it, they stop.
  for (int i = 1; i <= 14; ++i) {
    p.beat_all_but(&p.registry);
    EXPECT_TRUE(p.monitor.check(kT0 + i * 2s).ping) << i;
  }
  p.beat_all_but(&p.registry);
  EXPECT_FALSE(p.monitor.check(kT0 + 32s).ping);
}

TEST(WatchdogMonitor, AllowancesAreNeverShorterThanTheFloor) {
  common::Heartbeat fast;
  WatchdogMonitor monitor(15s);  // WatchdogSec=30s: looked at every 15 s
  monitor.watch("query-0", fast, 3s, kT0);
  EXPECT_TRUE(monitor.check(kT0 + 15s).ping);  // no beat needed between looks 15 s apart
  EXPECT_FALSE(monitor.check(kT0 + 16s).ping);
}

TEST(Watchdog, ThreadPingsThroughNotifyOnlyWhileTheMonitorAllows) {
  common::Heartbeat beat;
  std::atomic<int> pings{0};
  WatchdogMonitor monitor;
  monitor.watch("part", beat, 50ms, Clock::now());
  Watchdog dog(std::chrono::microseconds(20'000), std::move(monitor), [&](std::string_view s) {
    if (s == "WATCHDOG=1") pings.fetch_add(1);
    return true;
  });
  for (int i = 0; i < 30; ++i) {  // 300 ms of beats: pings every 10 ms or so
    beat.beat();
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_GE(pings.load(), 5);
  std::this_thread::sleep_for(150ms);  // no beats: past the 50 ms allowance
  int before = pings.load();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(pings.load(), before);
  EXPECT_GT(dog.withheld(), 0u);
}

}  // namespace
}  // namespace discodns::daemon
