#include "daemon/daemon.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <stdexcept>

#include "catalog/dump.hpp"
#include "common/guarded_loop.hpp"
#include "common/log.hpp"
#include "common/prometheus.hpp"
#include "common/siphash.hpp"
#include "common/thread_priority.hpp"
#include "daemon/registry_view.hpp"
#include "daemon/snapshot_metrics.hpp"
#include "daemon/state_writer.hpp"
#include "daemon/systemd.hpp"
#include "daemon/watchdog.hpp"
#include "registry/persist.hpp"
#include "wire/name.hpp"

namespace discodns::daemon {
namespace {

using registry::RegistryData;

std::shared_ptr<const catalog::StaticZone> load_zone(const config::Config& config) {
  return std::make_shared<const catalog::StaticZone>(
      catalog::load_static_zone(config.zone.file, config.zone.domain));
}

std::string source_name(const config::RegistrySource& source) {
  return "registry \"" + source.region + "\"";
}

// Reads a file source once, outside any running daemon (--check-config, --dump-zone).
std::shared_ptr<const RegistryData> read_file_source(const config::RegistrySource& source) {
  std::shared_ptr<const RegistryData> data;
  registry::FileSource reader(source.file, source.file_check_interval,
                              [&data](std::shared_ptr<const RegistryData> d) { data = d; });
  auto result = reader.check_now();
  if (!result.ok()) throw std::runtime_error(result.error().text);
  if (!data) data = std::make_shared<const RegistryData>();
  return data;
}

// --dump-zone without a running daemon: a live source contributes its warm-start copy.
std::shared_ptr<const RegistryData> read_source_once(const config::RegistrySource& source) {
  if (source.kind == config::SourceKind::kFile) return read_file_source(source);
  if (!source.state_file.empty()) {
    auto data = registry::load_registry(source.state_file);
    if (data) return std::make_shared<const RegistryData>(std::move(data.value()));
  }
  spdlog::warn("{}: no state_file to read; dumped without its data", source_name(source));
  return std::make_shared<const RegistryData>();
}

registry::MirrorOptions mirror_options(const config::Config& config,
                                       const config::RegistrySource& source) {
  registry::MirrorOptions options;
  options.envs = source.envs;
  options.removal_delay_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          source.removal_delay.value_or(config.ttl.renew_interval + config.ttl.late_grace))
          .count();
  options.max_removal_share = source.max_removal_share;
  options.mass_removal_hold_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(source.mass_removal_hold).count();
  return options;
}

// The zone serial is kept beside the first live source's warm-start file; without one,
// serials follow the clock only.
std::filesystem::path serial_file(const config::Config& config) {
  for (const auto& source : config.registries) {
    if (source.kind == config::SourceKind::kDiscovery && !source.state_file.empty())
      return source.state_file.parent_path() / "discodns.serial";
  }
  return {};
}

}  // namespace

Daemon::Daemon(config::Config config)
    : config_(std::move(config)),
      ttl_(catalog::TtlPolicy::from_config(config_.ttl)),
      publish_latency_({0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}) {}

Daemon::~Daemon() {
  stop();
}

void Daemon::start(std::optional<server::InheritedSockets> inherited) {
  if (started_) return;
  started_ = true;
  try {
    read_test_fault();
    zone_ = load_zone(config_);
    for (std::size_t i = 0; i < zone_->apex.size() && zone_->apex[i] != 0;
         i += 1 + static_cast<unsigned char>(zone_->apex[i]))
      ++apex_labels_;
    state_ = std::make_unique<StateWriter>(serial_file(config_));
    serial_ = state_->reserved();
    if (serial_ != 0) spdlog::info("zone serial continues above {}", serial_);
    open_sources();
    // A file source's first read happens here, synchronously: no answers from no data. A
    // live source starts from its warm-start copy, if any, and syncs in the background.
    for (std::size_t i = 0; i < sources_.size(); ++i) {
      if (!sources_[i]->file) continue;
      auto result = sources_[i]->file->check_now();
      if (!result.ok()) throw std::runtime_error(result.error().text);
    }
    take_pending();
    rebuild();
    if (!store_.current()) throw std::runtime_error("could not build the first snapshot");
    update_thread_ = std::thread([this] {
      common::name_current_thread("dd-update");
      common::make_current_thread_background();
      update_loop();
    });
    // The synchronous first reads are done: from here on a delivery runs on a source's thread.
    if (registry_fault_armed_) registry_fault_.store(true);
    for (auto& s : sources_) {
      if (s->file) s->file->start();
      if (s->discovery) s->discovery->start();
    }
    server::ServerOptions options = server::options_from_config(config_);
    // Random per process: cookies then survive no restart, which RFC 7873 §7.1 allows (the
    // client just gets a fresh one).
    options.limits.cookie_secret = common::random_siphash_key();
    if (inherited) {
      spdlog::info(
          "socket activation: {} UDP and {} TCP sockets from systemd; [server] listen "
          "is not used",
          inherited->udp.size(), inherited->tcp.size());
      options.inherited = std::move(*inherited);
    }
    options.on_miss = [this](std::uint16_t region, std::span<const std::uint8_t> message) {
      note_miss(region, message);
    };
    server_ = std::make_unique<server::Server>(options, store_, clock_);
    server_->start();
    // After server_ is set: the admin thread reads it (metrics), and starting the thread here
    // is what orders that read after this write.
    start_admin();
  } catch (...) {
    stop();
    throw;
  }
  std::string line = ready_line();
  spdlog::info("{} (workers={})", line, server_->workers());
  std::cout << line << std::endl;  // tests and supervisors wait for this line
  notify_systemd("READY=1\nSTATUS=serving");
  start_watchdog();
}

namespace {

// The parts of `fresh` that differ from `running` and that a reload cannot apply (all but the
// zone file, [ttl] and log.level), as "[server], [[registry]]"; "" when none.
std::string needs_restart(const config::Config& fresh, const config::Config& running) {
  std::string out;
  auto note = [&out](bool differs, const char* what) {
    if (differs) out += (out.empty() ? "" : ", ") + std::string(what);
  };
  note(fresh.server != running.server, "[server]");
  note(fresh.registries != running.registries, "[[registry]]");
  note(fresh.admin != running.admin, "[admin]");
  note(fresh.log.query_sample != running.log.query_sample, "log.query_sample");
  return out;
}

}  // namespace

bool Daemon::reload() {
  notify_systemd("RELOADING=1");
  try {
    config::Config fresh = config::load_file(config_.source_file);
    if (fresh.zone.domain != config_.zone.domain) {
      throw std::runtime_error("zone.domain changed (" + config_.zone.domain + " -> " +
                               fresh.zone.domain + "): that needs a restart");
    }
    auto zone = load_zone(fresh);
    auto level = spdlog::level::from_str(fresh.log.level);
    if (auto kept = needs_restart(fresh, config_); !kept.empty()) {
      spdlog::warn(
          "reload: {} changed, which needs a restart (the running values stay); applying "
          "the zone file, [ttl] and log.level now",
          kept);
    }
    {
      std::lock_guard lock(mutex_);
      reload_zone_ = std::move(zone);
      reload_ttl_ = catalog::TtlPolicy::from_config(fresh.ttl);
    }
    wake_.notify_all();
    spdlog::set_level(level);
    reloads_ok_.fetch_add(1);
    spdlog::info("reload: {} and {} applied", config_.source_file.string(),
                 fresh.zone.file.string());
    notify_systemd("READY=1\nSTATUS=serving (reloaded)");
    return true;
  } catch (const std::exception& e) {
    reloads_failed_.fetch_add(1);
    spdlog::error("reload refused, the running configuration stays: {}", e.what());
    notify_systemd("READY=1\nSTATUS=serving (last reload refused)");
    return false;
  }
}

void Daemon::open_sources() {
  pending_.assign(config_.registries.size(), Pending{});
  for (std::size_t i = 0; i < config_.registries.size(); ++i) {
    const auto& source = config_.registries[i];
    catalog::RegionData region;
    region.region = source.region;
    region.data = std::make_shared<const RegistryData>();
    auto s = std::make_unique<Source>();
    s->config = source;
    if (source.kind == config::SourceKind::kFile) {
      region.frozen_time = true;  // a snapshot file is never stale: it is served as written
      s->file = std::make_unique<registry::FileSource>(
          source.file, source.file_check_interval,
          [this, i](std::shared_ptr<const RegistryData> data) { deliver(i, std::move(data)); });
    } else {
      // Until the registry answers: the warm-start copy with capped TTLs, or SERVFAIL (never
      // NXDOMAIN) when there is none.
      region.stale = true;
      region.last_good_ns = 0;
      region.reconcile_interval_ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(source.reconcile_interval).count();
      s->discovery = std::make_unique<registry::DiscoverySource>(
          source, mirror_options(config_, source), clock_,
          [this, i](std::shared_ptr<const RegistryData> data, const registry::SourceHealth& h) {
            deliver(i, std::move(data), h);
          });
      if (!source.state_file.empty() && std::filesystem::exists(source.state_file)) {
        auto warm = registry::load_registry(source.state_file);
        if (warm) {
          // When it was saved: the last good answer it holds (max_stale counts from there).
          struct stat st {};
          common::Nanos saved_ns =
              ::stat(source.state_file.c_str(), &st) == 0
                  ? st.st_mtim.tv_sec * common::kNanosPerSecond + st.st_mtim.tv_nsec
                  : 0;
          auto data = std::make_shared<const RegistryData>(std::move(warm.value()));
          spdlog::info("{}: warm start from {} ({} instances)", source_name(source),
                       source.state_file.string(), data->instances());
          s->discovery->seed(data, saved_ns);
          region.data = data;
          region.last_good_ns = saved_ns;
          s->saved = data;
        } else {
          spdlog::warn("{}: ignoring the warm-start file: {}", source_name(source),
                       warm.error().text);
        }
      }
    }
    regions_.push_back(std::move(region));
    sources_.push_back(std::move(s));
  }
}

// Query threads: the question name of `message`, lower-cased, without its region label and
// the apex, to the region's discovery source. No allocation, no waiting.
void Daemon::note_miss(std::uint16_t region, std::span<const std::uint8_t> message) noexcept {
  if (region >= sources_.size() || !sources_[region]->discovery) return;
  constexpr std::size_t kHeader = 12;
  std::array<char, 255> name;
  std::size_t length = 0;
  std::size_t labels = 0;
  for (std::size_t pos = kHeader; pos < message.size() && message[pos] != 0;) {
    std::size_t n = message[pos];
    if (n > 63 || pos + 1 + n > message.size() || length + 1 + n > name.size()) return;
    ++labels;
    name[length++] = static_cast<char>(n);
    for (std::size_t i = 0; i < n; ++i)
      name[length++] = static_cast<char>(std::tolower(message[pos + 1 + i]));
    pos += 1 + n;
  }
  // The engine checked that the name lies below region.apex: drop those labels.
  const std::size_t suffix_labels = apex_labels_ + 1;
  if (labels <= suffix_labels) return;
  std::size_t end = 0;
  for (std::size_t i = 0, pos = 0; i < labels - suffix_labels; ++i) {
    pos += 1 + static_cast<unsigned char>(name[pos]);
    end = pos;
  }
  sources_[region]->discovery->note_miss({name.data(), end});
}

void Daemon::deliver(std::size_t source, std::shared_ptr<const RegistryData> data,
                     std::optional<registry::SourceHealth> health) {
  if (!data) return;
  if (registry_fault_.exchange(false)) throw std::runtime_error("DISCODNS_TEST_FAULT=registry");
  {
    std::lock_guard lock(mutex_);
    if (!pending_[source].data) pending_[source].delivered = std::chrono::steady_clock::now();
    pending_[source].data = std::move(data);
    if (health) pending_[source].health = std::move(health);
  }
  wake_.notify_one();
}

bool Daemon::take_pending() {
  std::vector<Pending> taken;
  {
    std::lock_guard lock(mutex_);
    taken.swap(pending_);
    pending_.assign(taken.size(), Pending{});
  }
  bool changed = !store_.current();
  {
    std::lock_guard lock(mutex_);
    if (reload_zone_) {
      zone_ = std::move(reload_zone_);
      changed = true;
    }
    if (reload_ttl_) {
      ttl_ = *reload_ttl_;
      reload_ttl_.reset();
      changed = true;
    }
  }
  // Compared outside the lock so sources never wait on a deep comparison.
  for (std::size_t i = 0; i < taken.size(); ++i) {
    catalog::RegionData& region = regions_[i];
    if (taken[i].health) {
      const registry::SourceHealth& h = *taken[i].health;
      if (h.stale != region.stale || h.last_good_ns != region.last_good_ns) changed = true;
      region.stale = h.stale;
      region.last_good_ns = h.last_good_ns;
    }
    if (!taken[i].data) continue;
    if (taken[i].data != region.data && *taken[i].data != *region.data) {
      changed = true;
      if (!change_delivered_ || taken[i].delivered < *change_delivered_)
        change_delivered_ = taken[i].delivered;
    }
    reclaimer_.drop(std::exchange(region.data, std::move(taken[i].data)));
  }
  return changed;
}

// Hands each live source's data to the state writer for its state_file: at most every 5 s
// (a busy registry must not turn into a busy disk), and always at stop.
void Daemon::save_state(bool force) {
  constexpr auto kMinInterval = std::chrono::seconds(5);
  auto now = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    Source& s = *sources_[i];
    const catalog::RegionData& region = regions_[i];
    if (!s.discovery || s.config.state_file.empty() || region.data == s.saved) continue;
    if (region.stale && region.last_good_ns == 0) continue;  // nothing good to save yet
    if (!force && now - s.saved_at < kMinInterval) continue;
    state_->save(s.config.state_file, region.data);
    reclaimer_.drop(std::exchange(s.saved, region.data));
    s.saved_at = now;
  }
}

void Daemon::rebuild() {
  auto started = std::chrono::steady_clock::now();
  catalog::BuildInput input;
  input.previous = store_.current();
  input.zone = zone_;
  input.regions = regions_;
  input.ttl = ttl_;
  input.built_ns = clock_.now_ns();
  input.serial = catalog::next_serial(serial_, zone_->soa_serial, input.built_ns);
  catalog::BuildStats stats;
  auto snapshot = catalog::build_snapshot(input, &stats);
  serial_ = input.serial;
  state_->reserve(serial_);  // durable before any client or secondary can see it
  // What this build replaced goes to the reclaimer: at 100k instances, freeing a registry
  // version every app of which renewed costs more than the build itself.
  reclaimer_.drop(store_.publish(std::move(snapshot)));
  if (change_delivered_) {
    std::chrono::duration<double> waited = std::chrono::steady_clock::now() - *change_delivered_;
    change_delivered_.reset();
    std::lock_guard lock(mutex_);
    publish_latency_.observe(waited.count());
  }
  reclaimer_.drop(std::move(input.previous));
  builds_.fetch_add(1);
  blocks_built_.fetch_add(stats.blocks_built);
  if (!stats.incremental) full_builds_.fetch_add(1);
  blocks_reused_.fetch_add(stats.blocks_reused);
  std::uint64_t skipped = stats.invalid_names + stats.skipped_instances;
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
  last_build_us_.store(static_cast<std::uint64_t>(ms.count() * 1000));
  // Full builds are events worth a line; incremental ones happen with every registry change.
  spdlog::log(stats.incremental ? spdlog::level::debug : spdlog::level::info,
              "snapshot serial={} ({}) names={} services={} instances={} skipped={} collisions={} "
              "shadowed={} blocks_built={} blocks_reused={} in {:.1f} ms",
              serial_, stats.incremental ? "incremental" : "full", stats.names, stats.services,
              stats.instances, skipped, stats.hostname_collisions, stats.shadowed_names,
              stats.blocks_built, stats.blocks_reused, ms.count());
}

// Snapshot builds take at most about 1/(1 + kBuildRestFactor) of a core: after a build that
// took d, the next one waits k·d (at most kMaxRest). A build compiles only the apps that
// changed (a tenth of a millisecond for one app), so this matters for full builds (a zone
// reload, 250 ms at 100k instances) and for reconciles that see many renewed apps at once:
// changes arriving meanwhile are merged into the next build, and the query workers keep
// their CPU (tests/bench/propagation.py, "qps while the registry changes").
constexpr int kBuildRestFactor = 4;
constexpr std::chrono::seconds kMaxRest{1};

void Daemon::update_loop() {
  std::chrono::steady_clock::time_point rest_until{};
  bool retry = false;  // the last build threw: build again even with nothing new
  for (;;) {
    update_beat_.beat();
    {
      std::unique_lock lock(mutex_);
      // After a build, rest: changes arriving meanwhile are merged into the next build.
      wake_.wait_until(lock, rest_until, [this] { return stopping_; });
      // Woken by a delivery; the timeout flushes warm-start saves that were held back (and
      // beats the heartbeat at least every second or two).
      wake_.wait_for(lock, std::chrono::seconds(1), [this] {
        if (stopping_) return true;
        if (reload_zone_ || reload_ttl_) return true;
        for (const auto& p : pending_)
          if (p.data || p.health) return true;
        return false;
      });
      if (stopping_) return;
    }
    // A failed build keeps the last snapshot: the old answers beat none.
    common::guarded_pass(common::BackgroundThread::kUpdate,
                         [&] { update_pass(rest_until, retry); });
  }
}

void Daemon::update_pass(std::chrono::steady_clock::time_point& rest_until, bool& retry) {
  using Steady = std::chrono::steady_clock;
  // The snapshots the workers let go of since the last pass: freed by the reclaimer, never
  // by a worker or on this thread.
  auto retired = store_.take_retired();
  reclaimer_.drop_all(retired);
  if (take_pending() || retry) {
    retry = true;
    auto started = Steady::now();
    rebuild();
    retry = false;
    auto took = Steady::now() - started;
    rest_until = Steady::now() + std::min<Steady::duration>(took * kBuildRestFactor, kMaxRest);
  }
  save_state(false);
}

void Daemon::stop() {
  if (stopped_) return;
  stopped_ = true;
  notify_systemd("STOPPING=1");
  if (watchdog_) watchdog_->stop();  // first: what it watches is about to stop moving
  if (server_) {
    server_->stop();
    spdlog::info("servers stopped");
  }
  if (admin_) admin_->stop();
  for (auto& s : sources_) {
    if (s->file) s->file->stop();
    if (s->discovery) s->discovery->stop();
  }
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (update_thread_.joinable()) update_thread_.join();
  try {
    take_pending();
    if (state_) {
      save_state(true);
      state_->stop();
    }
  } catch (const std::exception& e) {
    spdlog::error("saving state at stop: {}", e.what());
  }
}

void Daemon::start_admin() {
  if (!config_.admin.listen) return;
  admin::Handlers handlers;
  handlers.metrics = [this] { return metrics_text(); };
  handlers.ready = [this](std::string& why) { return ready(why); };
  handlers.registry_view = [this] {
    if (admin_fault_) throw std::runtime_error("DISCODNS_TEST_FAULT=admin");
    return registry_view();
  };
  admin_ = std::make_unique<admin::HttpServer>(config_.admin.listen->host,
                                               config_.admin.listen->port, std::move(handlers));
  admin_->start();
  spdlog::info("admin HTTP on {}:{}", config_.admin.listen->host, admin_->port());
}

std::string Daemon::metrics_text() const {
  common::PrometheusText m;
  if (server_) {
    server::CounterTotals c = server_->counters();
    m.counter("discodns_queries_total", "DNS queries received.", static_cast<double>(c.udp_queries),
              {{"transport", "udp"}});
    m.counter("discodns_queries_total", "", static_cast<double>(c.tcp_queries),
              {{"transport", "tcp"}});
    m.counter("discodns_responses_total", "DNS responses sent.",
              static_cast<double>(c.udp_responses), {{"transport", "udp"}});
    m.counter("discodns_responses_total", "", static_cast<double>(c.tcp_responses),
              {{"transport", "tcp"}});
    m.counter("discodns_dropped_total",
              "Queries dropped (malformed beyond an answer, send failed).",
              static_cast<double>(c.udp_dropped), {{"transport", "udp"}});
    m.counter("discodns_dropped_total", "", static_cast<double>(c.tcp_dropped),
              {{"transport", "tcp"}});
    m.counter("discodns_truncated_total", "UDP answers sent with TC set.",
              static_cast<double>(c.udp_truncated));
    m.counter("discodns_rrl_total", "UDP answers limited by response rate limiting.",
              static_cast<double>(c.udp_rate_limited), {{"action", "dropped"}});
    m.counter("discodns_rrl_total", "", static_cast<double>(c.udp_slipped),
              {{"action", "slipped"}});
    m.counter("discodns_tcp_connections_total", "TCP connections accepted.",
              static_cast<double>(c.tcp_sessions));
    m.counter("discodns_tcp_rejected_total", "TCP connections over the cap, closed at once.",
              static_cast<double>(server_->tcp_rejected_connections()));
    m.gauge("discodns_tcp_open_connections", "TCP connections open now.",
            static_cast<double>(server_->tcp_open_connections()));
    m.counter("discodns_errors_total", "Exceptions caught at a batch or session boundary.",
              static_cast<double>(c.errors));
    auto per_worker = server_->queries_per_worker();
    for (std::size_t i = 0; i < per_worker.size(); ++i) {
      m.counter("discodns_worker_queries_total", "Queries received, by query worker.",
                static_cast<double>(per_worker[i]), {{"worker", std::to_string(i)}});
    }
    m.counter("discodns_query_log_dropped_total",
              "Sampled query-log lines dropped because the log thread fell behind.",
              static_cast<double>(c.query_log_dropped));
    for (std::size_t i = 0; i < c.rcodes.size(); ++i) {
      m.counter("discodns_answers_by_rcode_total", "Answers sent, by response code.",
                static_cast<double>(c.rcodes[i]), {{"rcode", server::kRcodeNames[i]}});
    }
    for (std::size_t i = 0; i < c.qtypes.size(); ++i) {
      m.counter("discodns_answers_by_qtype_total", "Answers sent, by query type.",
                static_cast<double>(c.qtypes[i]), {{"qtype", server::kQtypeNames[i]}});
    }
    std::vector<double> bounds(std::begin(server::kLatencyBounds),
                               std::end(server::kLatencyBounds));
    std::vector<std::uint64_t> cumulative;
    std::uint64_t running = 0;
    for (auto n : c.latency)
      cumulative.push_back(running += n);
    m.histogram("discodns_answer_duration_seconds",
                "Receive-to-send time of answers (UDP: per batch, an upper bound).", bounds,
                cumulative, static_cast<double>(c.latency_sum_ns) / 1e9);
  }
  auto snapshot = store_.current();
  common::Nanos now = clock_.now_ns();
  if (snapshot) {
    write_snapshot_metrics(m, *snapshot, now);
  }
  health_metrics(m);
  m.counter("discodns_reloads_total", "SIGHUP reloads.", static_cast<double>(reloads_ok_.load()),
            {{"outcome", "applied"}});
  m.counter("discodns_reloads_total", "", static_cast<double>(reloads_failed_.load()),
            {{"outcome", "refused"}});
  m.counter("discodns_snapshot_builds_total", "Snapshots built and published.",
            static_cast<double>(builds_.load()));
  {
    std::lock_guard lock(mutex_);
    m.histogram("discodns_registry_change_publish_seconds",
                "From a registry source delivering changed data to the snapshot with it being "
                "published (queueing, build rest and build).",
                publish_latency_);
  }
  m.gauge("discodns_snapshot_build_seconds", "Duration of the last snapshot build.",
          static_cast<double>(last_build_us_.load()) / 1e6);
  m.counter("discodns_snapshot_full_builds_total",
            "Snapshots built from scratch (start, zone or configuration change, contested names).",
            static_cast<double>(full_builds_.load()));
  m.counter("discodns_snapshot_blocks_built_total", "Service blocks compiled.",
            static_cast<double>(blocks_built_.load()));
  m.counter("discodns_snapshot_blocks_reused_total", "Service blocks reused unchanged.",
            static_cast<double>(blocks_reused_.load()));
  // Registry health, one metric family at a time (Prometheus wants each family contiguous).
  std::vector<std::pair<common::PrometheusText::Labels, registry::SourceHealth>> registries;
  for (const auto& s : sources_) {
    if (s->discovery)
      registries.push_back({{{"region", s->config.region}}, s->discovery->health()});
  }
  auto each = [&](auto emit) {
    for (const auto& [region, h] : registries)
      emit(region, h);
  };
  using Labels = common::PrometheusText::Labels;
  each([&](const Labels& region, const registry::SourceHealth& h) {
    m.gauge("discodns_registry_stale", "1 while the registry is unreachable (stale mode).",
            h.stale ? 1 : 0, region);
  });
  each([&](const Labels& region, const registry::SourceHealth& h) {
    m.gauge("discodns_registry_last_good_age_seconds",
            "Seconds since the last good registry answer.",
            h.last_good_ns == 0 ? -1 : static_cast<double>(now - h.last_good_ns) / 1e9, region);
  });
  each([&](const Labels& region, const registry::SourceHealth& h) {
    m.counter("discodns_registry_requests_sent_total", "HTTP requests sent to discovery nodes.",
              static_cast<double>(h.requests), region);
  });
  each([&](const Labels& region, const registry::SourceHealth& h) {
    for (const auto& [key, count] : h.completed) {
      Labels labels = region;
      labels.emplace_back("node", std::get<0>(key));
      labels.emplace_back("endpoint", std::get<1>(key));
      labels.emplace_back("outcome", std::get<2>(key));
      m.counter("discodns_registry_requests_total",
                "Registry requests completed, by node, endpoint and outcome.",
                static_cast<double>(count), labels);
    }
  });
  each([&](const Labels& region, const registry::SourceHealth& h) {
    m.counter("discodns_registry_failures_total",
              "Registry answers refused (transport, HTTP, code, JSON).",
              static_cast<double>(h.failures), region);
  });
  each([&](const Labels& region, const registry::SourceHealth& h) {
    m.counter("discodns_registry_node_switches_total", "Switches to another discovery node.",
              static_cast<double>(h.node_switches), region);
  });
  each([&](const Labels& region, const registry::SourceHealth& h) {
    m.counter("discodns_registry_polls_changed_total", "Long polls that returned changes.",
              static_cast<double>(h.polls_changed), region);
  });
  each([&](const Labels& region, const registry::SourceHealth& h) {
    m.counter("discodns_registry_reconciles_total", "Full fetches (fetch/all) applied.",
              static_cast<double>(h.reconciles), region);
  });
  // The mirror's removal guard and on-miss fetches (README "Registry mirror").
  struct Figure {
    const char* name;
    const char* help;
    bool gauge;
    std::uint64_t registry::SourceHealth::*field = nullptr;
    std::uint64_t registry::MirrorStats::*mirror_field = nullptr;
  };
  using H = registry::SourceHealth;
  using M = registry::MirrorStats;
  const Figure figures[] = {
      {"discodns_registry_poll_retries_total", "Polls retried alone after a failure.", false,
       &H::poll_retries},
      {"discodns_registry_miss_fetches_total", "fetchs sent for names queried but unknown.", false,
       &H::miss_fetches},
      {"discodns_registry_misses_dropped_total",
       "Unknown names not fetched (rate limit or queue full).", false, &H::misses_dropped},
      {"discodns_registry_nodes", "Discovery nodes known (seeds and learned).", true,
       &H::nodes_known},
      {"discodns_mirror_pending_removals", "Instances full answers no longer list, still served.",
       true, nullptr, &M::pending_removals},
      {"discodns_mirror_held_removals",
       "Confirmed removals held back: more than max_removal_share at once.", true, nullptr,
       &M::held_removals},
      {"discodns_mirror_removed_total", "Instances removed once their absence was confirmed.",
       false, nullptr, &M::removed_total},
      {"discodns_mirror_cancels_total", "Instances removed at once: cancels seen in polls.", false,
       nullptr, &M::cancels_total},
      {"discodns_mirror_mass_holds_total", "Times the share rule began holding removals back.",
       false, nullptr, &M::mass_holds_total},
      {"discodns_mirror_stale_apps_total",
       "Apps of full answers skipped because a poll had newer data.", false, nullptr,
       &M::stale_apps_total},
  };
  for (const Figure& f : figures) {
    each([&](const Labels& region, const registry::SourceHealth& h) {
      double v = static_cast<double>(f.field ? h.*f.field : h.mirror.*f.mirror_field);
      if (f.gauge)
        m.gauge(f.name, f.help, v, region);
      else
        m.counter(f.name, f.help, v, region);
    });
  }
  each([&](const Labels& region, const registry::SourceHealth& h) {
    m.histogram("discodns_registry_poll_duration_seconds",
                "Time long polls took to answer (changes or not modified).", h.poll_seconds,
                region);
  });
  each([&](const Labels& region, const registry::SourceHealth& h) {
    m.histogram("discodns_registry_reconcile_duration_seconds",
                "fetch/all reconciles: request sent to new data applied.", h.reconcile_seconds,
                region);
  });
  return m.text();
}

void Daemon::begin_shutdown() {
  shutting_down_.store(true);
  notify_systemd("STATUS=shutting down: answering until the grace period ends");
}

bool Daemon::ready(std::string& why) const {
  if (shutting_down_.load()) {
    why = "shutting down";
    return false;
  }
  auto snapshot = store_.current();
  if (!snapshot) {
    why = "no snapshot yet";
    return false;
  }
  common::Nanos now = clock_.now_ns();
  std::string stale;
  for (const auto& region : snapshot->regions) {
    if (!region.stale) continue;
    if (now - region.last_good_ns > snapshot->ttl.max_stale_ns) {
      why = "region " + region.label + " has no registry data fresher than max_stale";
      return false;
    }
    // Still ready (the answers beat none), but an operator or a load balancer's log must see
    // that they are not current.
    stale += "; stale: region " + region.label + ", last good registry answer " +
             std::to_string((now - region.last_good_ns) / common::kNanosPerSecond) +
             " s ago (served up to max_stale, " +
             std::to_string(snapshot->ttl.max_stale_ns / common::kNanosPerSecond) + " s)";
  }
  why = "serial " + std::to_string(snapshot->serial) + stale;
  return true;
}

std::string Daemon::registry_view() const {
  std::vector<SourceView> views;
  for (const auto& s : sources_) {
    views.push_back({s->config.region, std::nullopt});
    if (s->discovery) views.back().discovery = s->discovery->health();
  }
  auto snapshot = store_.current();
  return registry_view_json(views, snapshot.get());
}

std::string Daemon::ready_line() const {
  std::string line = "discodns ready udp=";
  if (!server_) return line + " tcp=";
  const char* sep = "";
  for (const auto& e : server_->udp_endpoints()) {
    line += sep + server::to_string(e);
    sep = ",";
  }
  line += " tcp=";
  sep = "";
  for (const auto& e : server_->tcp_endpoints()) {
    line += sep + server::to_string(e);
    sep = ",";
  }
  return line;
}

std::string check_config(const std::filesystem::path& file) {
  try {
    config::Config config = config::load_file(file);
    load_zone(config);
    for (const auto& source : config.registries)
      if (source.kind == config::SourceKind::kFile) read_file_source(source);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

void dump_zone(const config::Config& config, std::ostream& out) {
  catalog::BuildInput input;
  input.zone = load_zone(config);
  input.ttl = catalog::TtlPolicy::from_config(config.ttl);
  common::Nanos now = common::wall_now_ns();
  for (const auto& source : config.registries) {
    catalog::RegionData region;
    region.region = source.region;
    region.data = read_source_once(source);
    region.frozen_time = source.kind == config::SourceKind::kFile;
    input.regions.push_back(std::move(region));
  }
  input.serial = catalog::next_serial(0, input.zone->soa_serial, now);
  catalog::dump_zone(*catalog::build_snapshot(input), now, out);
}

void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // Writes to a closed TCP peer must fail with EPIPE, not kill the process.
  signal(SIGPIPE, SIG_IGN);
}

int wait_for_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  int received = 0;
  while (sigwait(&set, &received) != 0) {
  }
  return received;
}

bool wait_for_stop_signal(std::chrono::milliseconds timeout) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return false;
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec wait{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    if (sigtimedwait(&set, nullptr, &wait) > 0) return true;  // EINTR, EAGAIN: look again
  }
}

}  // namespace discodns::daemon
