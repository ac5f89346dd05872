#include "daemon/metrics.hpp"

#include <cstddef>

namespace discodns::daemon {

void write_snapshot_metrics(common::PrometheusText& m, const catalog::Snapshot& snapshot,
                            common::Nanos now) {
  m.gauge("discodns_zone_serial", "SOA serial being served.", snapshot.serial);
  m.gauge("discodns_snapshot_age_seconds", "Seconds since the snapshot being served was built.",
          static_cast<double>(now - snapshot.built_ns) / 1e9);
  m.gauge("discodns_services", "Services (appid.env.zone.region) served.",
          static_cast<double>(snapshot.services.size()));
  m.gauge("discodns_instances", "Registry instances served.",
          static_cast<double>(snapshot.counts.instances));
  // Per region, one family at a time (Prometheus wants each family contiguous).
  auto each = [&](auto emit) {
    for (std::size_t r = 0; r < snapshot.regions.size() && r < snapshot.region_counts.size(); ++r)
      emit(common::PrometheusText::Labels{{"region", snapshot.regions[r].label}},
           snapshot.region_counts[r]);
  };
  each([&](common::PrometheusText::Labels labels, const catalog::ServedCounts& c) {
    labels.emplace_back("reason", "undecodable");
    m.gauge("discodns_registry_instances_skipped",
            "Registry instances not served: undecodable (a field missing or invalid), or "
            "invalid_name (appid, env or zone not usable as DNS labels).",
            static_cast<double>(c.skipped_instances), labels);
    labels.back().second = "invalid_name";
    m.gauge("discodns_registry_instances_skipped", "", static_cast<double>(c.invalid_names),
            labels);
  });
  each([&](const common::PrometheusText::Labels& labels, const catalog::ServedCounts& c) {
    m.gauge("discodns_names_shadowed",
            "Registry names not served because a zone-file name or another service has them.",
            static_cast<double>(c.shadowed_names), labels);
  });
  each([&](const common::PrometheusText::Labels& labels, const catalog::ServedCounts& c) {
    m.gauge("discodns_hostname_collisions",
            "Instance host labels that collided within a service and carry a hash suffix.",
            static_cast<double>(c.hostname_collisions), labels);
  });
}

}  // namespace discodns::daemon
