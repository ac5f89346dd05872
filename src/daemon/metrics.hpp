// The Prometheus text of /metrics, by source of the figures: the query workers
// (metrics_server.cpp), the snapshot being served (metrics_snapshot.cpp) and the registry
// sources (metrics_registry.cpp), the hidden primary (metrics_transfer.cpp). Daemon::metrics_text
// puts them together.
#pragma once

#include <utility>
#include <vector>

#include "catalog/snapshot.hpp"
#include "common/clock.hpp"
#include "common/prometheus.hpp"
#include "registry/discovery_client.hpp"
#include "server/server.hpp"
#include "transfer/notifier.hpp"
#include "transfer/primary.hpp"

namespace discodns::daemon {

// Queries, answers, drops, latency and TCP figures, summed over the workers.
void write_server_metrics(common::PrometheusText& m, const server::Server& server);

// Serial, age, what the snapshot serves, and per region what it leaves out.
void write_snapshot_metrics(common::PrometheusText& m, const catalog::Snapshot& snapshot,
                            common::Nanos now);

// A live source's health, labelled with its region.
using RegionHealth = std::pair<common::PrometheusText::Labels, registry::SourceHealth>;
void write_registry_metrics(common::PrometheusText& m, const std::vector<RegionHealth>& registries,
                            common::Nanos now);

// Transfers and NOTIFYs ([transfer]); either may be null (off).
void write_transfer_metrics(common::PrometheusText& m, const transfer::Primary* primary,
                            const transfer::Notifier* notifier);

}  // namespace discodns::daemon
