// The object graph of a running discodns, built from a Config in dependency order: static zone
// -> snapshot store -> registry sources -> first snapshot -> servers. Threads it owns:
//   - the query workers (server::Server),
//   - one thread per file source (registry::FileSource polls its file),
//   - the registry-update thread: the only writer of the snapshot store. Sources hand it their
//     data; it keeps the newest data per region, rebuilds and publishes a Snapshot.
//   - under systemd with WatchdogSec, the watchdog thread (daemon/watchdog.hpp).
// Every background loop runs its passes inside common::guarded_pass (log, count, go on).
// The caller (main) blocks the stop signals first, then start(), wait_for_stop_signal(), stop().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "admin/http_server.hpp"
#include "catalog/builder.hpp"
#include "catalog/static_zone.hpp"
#include "catalog/ttl_policy.hpp"
#include "common/clock.hpp"
#include "common/heartbeat.hpp"
#include "common/histogram.hpp"
#include "common/prometheus.hpp"
#include "config/config.hpp"
#include "daemon/reclaimer.hpp"
#include "query/store.hpp"
#include "registry/discovery_source.hpp"
#include "registry/file_source.hpp"
#include "registry/model.hpp"
#include "server/server.hpp"
#include "server/socket_activation.hpp"
#include "transfer/notifier.hpp"
#include "transfer/primary.hpp"

namespace discodns::daemon {

class StateWriter;
class Watchdog;

class Daemon {
 public:
  explicit Daemon(config::Config config);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Loads the zone, reads every source once (synchronously), publishes the first snapshot,
  // binds and starts the servers, then prints the readiness line on stdout. Throws
  // std::runtime_error (one line, saying what failed) and leaves nothing running. `inherited`:
  // sockets from systemd (server::take_inherited_sockets, which main calls before any thread
  // exists); they replace [server] listen.
  void start(std::optional<server::InheritedSockets> inherited = std::nullopt);
  // SIGTERM's first step: /readyz answers 503 ("shutting down") from now on, while queries
  // are still answered; main waits server.shutdown_grace, then calls stop().
  void begin_shutdown();
  std::chrono::milliseconds shutdown_grace() const { return config_.server.shutdown_grace; }
  // Stops servers, sources and the update thread; idempotent.
  void stop();
  // SIGHUP: re-reads the config file and the zone file. The zone, the TTL policy and the log
  // level take effect at once (a new snapshot); listen addresses, workers and registry
  // sources need a restart (logged). A bad config or zone is refused and the old one keeps
  // running. Returns false when refused.
  bool reload();

  // "discodns ready udp=ADDR:PORT[,...] tcp=ADDR:PORT[,...]" (valid after start).
  std::string ready_line() const;
  const server::Server* server() const { return server_.get(); }
  const query::SnapshotStore& store() const { return store_; }

 private:
  struct Source {
    config::RegistrySource config;
    std::unique_ptr<registry::FileSource> file;            // source = "file"
    std::unique_ptr<registry::DiscoverySource> discovery;  // source = "discovery"
    // Warm start (discovery sources with a state_file): the data last saved, and when.
    std::shared_ptr<const registry::RegistryData> saved;
    std::chrono::steady_clock::time_point saved_at{};
  };

  // What a source handed over, waiting for the update thread.
  struct Pending {
    std::shared_ptr<const registry::RegistryData> data;  // null = nothing new
    std::optional<registry::SourceHealth> health;        // live sources only
    std::chrono::steady_clock::time_point delivered;     // of the first data not yet taken
  };

  void open_sources();
  void deliver(std::size_t source, std::shared_ptr<const registry::RegistryData> data,
               std::optional<registry::SourceHealth> health = std::nullopt);
  void save_state(bool force);
  void note_miss(std::uint16_t region, std::span<const std::uint8_t> message) noexcept;
  void start_admin();
  void start_transfers();
  void start_server(std::optional<server::InheritedSockets> inherited);
  // daemon_health.cpp: the watchdog over every loop's heartbeat; the robustness figures.
  void start_watchdog();
  void read_test_fault();
  void health_metrics(common::PrometheusText& m) const;
  std::string metrics_text() const;
  bool ready(std::string& why) const;
  std::string registry_view() const;
  // Moves delivered data into regions_; true when something changed. Update thread (or
  // start(), before that thread exists).
  bool take_pending();
  void rebuild();
  void update_loop();
  void update_pass(std::chrono::steady_clock::time_point& rest_until, bool& retry);

  config::Config config_;
  common::SystemClock clock_;
  catalog::TtlPolicy ttl_;
  std::shared_ptr<const catalog::StaticZone> zone_;
  Reclaimer reclaimer_;  // before store_ and regions_: outlives what they hand it
  query::SnapshotStore store_;
  std::vector<catalog::RegionData> regions_;  // one per source, same order; update thread only
  std::shared_ptr<const catalog::BuildState> build_state_;  // of the last build; update thread
  std::uint32_t serial_ = 0;
  std::size_t apex_labels_ = 0;         // labels of zone.domain (for on-miss names)
  std::unique_ptr<StateWriter> state_;  // warm-start files and the serial, off this path

  mutable std::mutex mutex_;  // guards pending_, stopping_ and publish_latency_
  std::condition_variable wake_;
  std::vector<Pending> pending_;  // per source
  bool stopping_ = false;
  // Registry change (delivered by a source) to snapshot published, for /metrics.
  common::Histogram publish_latency_;  // guarded by mutex_
  // The earliest delivery of data that changed and is not published yet. Update thread only.
  std::optional<std::chrono::steady_clock::time_point> change_delivered_;

  std::vector<std::unique_ptr<Source>> sources_;
  std::thread update_thread_;
  // Hidden primary ([transfer]): answers AXFR/IXFR, keeps the journal; null when off.
  std::unique_ptr<transfer::Primary> primary_;
  std::unique_ptr<transfer::Notifier> notifier_;  // NOTIFY to transfer.notify; null when none
  std::atomic<bool> notify_servers_up_{false};    // the servers answer: NOTIFYs may go out
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<admin::HttpServer> admin_;
  // Figures of the update path, for /metrics (written by the update thread).
  std::atomic<std::uint64_t> builds_{0};
  std::atomic<std::uint64_t> last_build_us_{0};
  std::atomic<std::uint64_t> blocks_built_{0};
  std::atomic<std::uint64_t> full_builds_{0};
  std::atomic<std::uint64_t> blocks_reused_{0};
  std::atomic<std::uint64_t> reloads_ok_{0};
  std::atomic<std::uint64_t> reloads_failed_{0};
  std::atomic<bool> shutting_down_{false};  // begin_shutdown: /readyz says 503
  // Set by reload(), applied by the update thread (guarded by mutex_).
  std::shared_ptr<const catalog::StaticZone> reload_zone_;
  std::optional<catalog::TtlPolicy> reload_ttl_;
  common::Heartbeat update_beat_;  // once per update-loop pass, for the watchdog
  std::unique_ptr<Watchdog> watchdog_;
  // Test-only (DISCODNS_TEST_FAULT, daemon_health.cpp): the next delivery from a source's
  // thread throws once; /debug/registry throws.
  std::atomic<bool> registry_fault_{false};
  bool registry_fault_armed_ = false;
  bool admin_fault_ = false;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace discodns::daemon
