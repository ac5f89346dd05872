// Builds an immutable Snapshot from the static zone and the registry data of every region.
// Runs on the update path only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "catalog/build_state.hpp"
#include "catalog/snapshot.hpp"
#include "catalog/static_zone.hpp"
#include "catalog/ttl_policy.hpp"
#include "registry/model.hpp"

namespace discodns::catalog {

struct RegionData {
  std::string region;  // DNS label the source is served under
  std::shared_ptr<const registry::RegistryData> data;
  // File sources: TTLs are computed as of the newest renew time in the data, so a snapshot
  // file is served as it was when written (README "TTLs").
  bool frozen_time = false;
  // Live sources: registry unreachable (TTLs capped), and the wall time of the last good
  // answer (SERVFAIL once it is older than max_stale). No data yet: stale with 0.
  bool stale = false;
  common::Nanos last_good_ns = 0;
  // Live sources: how often a full fetch (reconcile) brings new renew times, the only way
  // they reach discodns; part of every instance's good_until (catalog/ttl_policy.hpp).
  // Ignored for file sources (frozen_time).
  common::Nanos reconcile_interval_ns = 0;
};

struct BuildInput {
  // The state of the build being followed, if any: the apps whose data is the same object as
  // the one it was built from keep their blocks, and are not even looked at, so one app's
  // change costs one app's build (registry::RegistryData shares unchanged apps between
  // versions).
  std::shared_ptr<const BuildState> previous;
  std::shared_ptr<const StaticZone> zone;
  std::vector<RegionData> regions;
  TtlPolicy ttl;
  std::uint32_t serial = 0;
  common::Nanos built_ns = 0;  // wall time of the build (for the snapshot-age metric)
};

// What the snapshot serves (its ServedCounts) and what this build compiled.
struct BuildStats : ServedCounts {
  std::uint64_t blocks_built = 0;      // service blocks compiled in this build
  std::uint64_t blocks_reused = 0;     // service blocks taken from the previous snapshot
  std::uint64_t blocks_refreshed = 0;  // of those, blocks whose freshness slots were rewritten
  bool incremental = false;            // only changed apps were looked at
};

// The snapshot (state->snapshot) and the state the next build follows.
std::shared_ptr<const BuildState> build(const BuildInput& input, BuildStats* stats = nullptr);
// A build whose state is not needed (tools, one-off builds): the snapshot alone.
std::shared_ptr<const Snapshot> build_snapshot(const BuildInput& input,
                                               BuildStats* stats = nullptr);

}  // namespace discodns::catalog
