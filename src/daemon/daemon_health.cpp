// Daemon's self-checks: which loops the systemd watchdog watches and how long each may stay
// quiet, the robustness figures for /metrics, and the test-only fault hook.
#include <cstdlib>
#include <cstring>

#include "common/guarded_loop.hpp"
#include "common/log.hpp"
#include "daemon/daemon.hpp"
#include "daemon/systemd.hpp"
#include "daemon/watchdog.hpp"

namespace discodns::daemon {
namespace {

using namespace std::chrono_literals;

// How long each loop may go without a beat while healthy. Each is raised to the watchdog
// period (WatchdogMonitor's floor), so a part must move between two pings however fast it is.
// - A query worker beats from its 1 s snapshot refresh timer; it only misses beats when its
//   thread is blocked in a handler.
// - The update loop passes at least every second or two (its 1 s wake-up after a rest of at
//   most 1 s); a full build at 100k instances takes ~250 ms.
// - A registry loop never parks in a long poll: curl's multi interface runs the 30-90 s
//   polls in the background while the loop passes every 100 ms (DiscoverySource::run), so a
//   parked poll needs no heartbeat of its own. What can hold one pass for long is decoding
//   a large fetch/all or a synchronous name resolution (up to connect_timeout): 30 s.
// - A file source beats once per file_check_interval.
constexpr auto kWorkerAllowance = 5s;
constexpr auto kUpdateAllowance = 10s;
constexpr auto kRegistryAllowance = 30s;
constexpr auto kFileSlack = 10s;

std::string source_label(const char* kind, const config::RegistrySource& source) {
  return std::string(kind) + " \"" + source.region + "\"";
}

}  // namespace

void Daemon::start_watchdog() {
  auto interval = watchdog_interval();
  if (interval.count() <= 0) return;
  auto now = WatchdogMonitor::Clock::now();
  WatchdogMonitor monitor(interval);
  monitor.watch("update loop", update_beat_, kUpdateAllowance, now);
  for (std::size_t i = 0; i < server_->workers(); ++i)
    monitor.watch("query-" + std::to_string(i), server_->worker_heartbeat(i), kWorkerAllowance,
                  now);
  for (const auto& s : sources_) {
    if (s->discovery)
      monitor.watch(source_label("registry", s->config), s->discovery->heartbeat(),
                    kRegistryAllowance, now);
    if (s->file)
      monitor.watch(source_label("file", s->config), s->file->heartbeat(),
                    s->config.file_check_interval + kFileSlack, now);
  }
  watchdog_ = std::make_unique<Watchdog>(interval, std::move(monitor), notify_systemd);
}

void Daemon::health_metrics(common::PrometheusText& m) const {
  for (std::size_t i = 0; i < common::kBackgroundThreads; ++i) {
    m.counter(
        "discodns_background_errors_total",
        "Exceptions caught in a background thread's loop (logged; the loop went on).",
        static_cast<double>(common::background_errors(static_cast<common::BackgroundThread>(i))),
        {{"thread", common::kBackgroundThreadNames[i]}});
  }
  m.counter("discodns_accept_backoffs_total",
            "Accepts paused 100 ms for lack of descriptors or memory (EMFILE, ENFILE, ...).",
            static_cast<double>(server_ ? server_->tcp_accept_backoffs() : 0),
            {{"listener", "dns"}});
  m.counter("discodns_accept_backoffs_total", "",
            static_cast<double>(admin_ ? admin_->accept_backoffs() : 0), {{"listener", "admin"}});
  m.counter("discodns_watchdog_withheld_total",
            "Watchdog pings withheld because a loop made no progress.",
            static_cast<double>(watchdog_ ? watchdog_->withheld() : 0));
}

// Read once, at start, before this daemon starts any thread of its own.
void Daemon::read_test_fault() {
  const char* fault = std::getenv("DISCODNS_TEST_FAULT");
  if (fault == nullptr || *fault == '\0') return;
  admin_fault_ = std::strcmp(fault, "admin") == 0;
  registry_fault_armed_ = std::strcmp(fault, "registry") == 0;
  spdlog::warn("DISCODNS_TEST_FAULT={}: injecting a test fault", fault);
}

}  // namespace discodns::daemon
