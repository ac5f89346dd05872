// The Prometheus figures of the snapshot being served: serial, age, what it serves, and per
// region what it had to leave out of the registry's data.
#pragma once

#include "catalog/snapshot.hpp"
#include "common/clock.hpp"
#include "common/prometheus.hpp"

namespace discodns::daemon {

void write_snapshot_metrics(common::PrometheusText& m, const catalog::Snapshot& snapshot,
                            common::Nanos now);

}  // namespace discodns::daemon
