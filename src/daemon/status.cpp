// What Daemon shows through the admin HTTP: the handlers, /metrics text, /readyz's verdict,
// /debug/registry, and the ready line.
#include <string>
#include <vector>

#include "common/log.hpp"
#include "common/prometheus.hpp"
#include "daemon/daemon.hpp"
#include "daemon/metrics.hpp"
#include "daemon/registry_view.hpp"
#include "daemon/systemd.hpp"

namespace discodns::daemon {

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
  if (server_) write_server_metrics(m, *server_);
  auto snapshot = store_.current();
  common::Nanos now = clock_.now_ns();
  if (snapshot) write_snapshot_metrics(m, *snapshot, now);
  health_metrics(m);
  write_transfer_metrics(m, primary_.get(), notifier_.get());
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
  std::vector<RegionHealth> registries;
  for (const auto& s : sources_) {
    if (s->discovery)
      registries.push_back({{{"region", s->config.region}}, s->discovery->health()});
  }
  write_registry_metrics(m, registries, now);
  return m.text();
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

}  // namespace discodns::daemon
