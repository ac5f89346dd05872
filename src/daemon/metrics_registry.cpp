#include <tuple>

#include "daemon/metrics.hpp"

namespace discodns::daemon {
namespace {

using Labels = common::PrometheusText::Labels;

template <class F>
void each(const std::vector<RegionHealth>& registries, F&& emit) {
  for (const auto& [region, h] : registries)
    emit(region, h);
}

// Stale mode, the last good answer, requests and what became of them.
void write_state(common::PrometheusText& m, const std::vector<RegionHealth>& registries,
                 common::Nanos now) {
  each(registries, [&](const Labels& region, const registry::SourceHealth& h) {
    m.gauge("discodns_registry_stale", "1 while the registry is unreachable (stale mode).",
            h.stale ? 1 : 0, region);
  });
  each(registries, [&](const Labels& region, const registry::SourceHealth& h) {
    m.gauge("discodns_registry_last_good_age_seconds",
            "Seconds since the last good registry answer.",
            h.last_good_ns == 0 ? -1 : static_cast<double>(now - h.last_good_ns) / 1e9, region);
  });
  each(registries, [&](const Labels& region, const registry::SourceHealth& h) {
    m.counter("discodns_registry_requests_sent_total", "HTTP requests sent to discovery nodes.",
              static_cast<double>(h.requests), region);
  });
  each(registries, [&](const Labels& region, const registry::SourceHealth& h) {
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
  each(registries, [&](const Labels& region, const registry::SourceHealth& h) {
    m.counter("discodns_registry_failures_total",
              "Registry answers refused (transport, HTTP, code, JSON).",
              static_cast<double>(h.failures), region);
  });
  each(registries, [&](const Labels& region, const registry::SourceHealth& h) {
    m.counter("discodns_registry_node_switches_total", "Switches to another discovery node.",
              static_cast<double>(h.node_switches), region);
  });
  each(registries, [&](const Labels& region, const registry::SourceHealth& h) {
    m.counter("discodns_registry_polls_changed_total", "Long polls that returned changes.",
              static_cast<double>(h.polls_changed), region);
  });
  each(registries, [&](const Labels& region, const registry::SourceHealth& h) {
    m.counter("discodns_registry_reconciles_total", "Full fetches (fetch/all) applied.",
              static_cast<double>(h.reconciles), region);
  });
}

void write_figures(common::PrometheusText& m, const std::vector<RegionHealth>& registries) {
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
    each(registries, [&](const Labels& region, const registry::SourceHealth& h) {
      double v = static_cast<double>(f.field ? h.*f.field : h.mirror.*f.mirror_field);
      if (f.gauge)
        m.gauge(f.name, f.help, v, region);
      else
        m.counter(f.name, f.help, v, region);
    });
  }
}

void write_histograms(common::PrometheusText& m, const std::vector<RegionHealth>& registries) {
  each(registries, [&](const Labels& region, const registry::SourceHealth& h) {
    m.histogram("discodns_registry_poll_duration_seconds",
                "Time long polls took to answer (changes or not modified).", h.poll_seconds,
                region);
  });
  each(registries, [&](const Labels& region, const registry::SourceHealth& h) {
    m.histogram("discodns_registry_reconcile_duration_seconds",
                "fetch/all reconciles: request sent to new data applied.", h.reconcile_seconds,
                region);
  });
}

}  // namespace

// One metric family at a time: Prometheus wants each family contiguous.
void write_registry_metrics(common::PrometheusText& m, const std::vector<RegionHealth>& registries,
                            common::Nanos now) {
  write_state(m, registries, now);
  write_figures(m, registries);
  write_histograms(m, registries);
}

}  // namespace discodns::daemon
