// What the builder keeps between builds so that the next one compiles only what changed: what
// each service block was compiled from, and the registry data and zone file the last snapshot
// came from. Update path only: the query path never sees it, so a snapshot a worker still
// holds keeps no registry version alive.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "catalog/snapshot.hpp"
#include "catalog/static_zone.hpp"
#include "registry/model.hpp"

namespace discodns::catalog {

// One service block and the instances it was compiled from (Snapshot::services holds it, as
// ServiceEntry::origin, next to the block) (an app's instances in one
// discovery zone), so the next build can find, refresh or rebuild it, and what it adds to
// its region's ServedCounts.
struct ServiceOrigin {
  std::shared_ptr<const Block> block;
  std::uint16_t region = kNoRegion;
  registry::AppKey app;
  std::string discovery_zone;  // discovery's zone label (not the DNS zone)
  std::uint32_t instances = 0;
  std::uint32_t hostname_collisions = 0;
  std::uint32_t shadowed_names = 0;
  // The instances (indices into the group) each record's good_until is the max over, so that
  // a change of renew times alone refreshes the slots without a compile. fresh_sources[r] is
  // one index, or kSharedSources | i where shared_sources[i] = n is followed by n indices (a
  // service address several instances carry).
  std::vector<std::uint32_t> fresh_sources;
  std::vector<std::uint32_t> shared_sources;
};

// fresh_sources: an entry with this bit set is an offset into shared_sources.
inline constexpr std::uint32_t kSharedSources = 0x8000'0000u;

struct BuildState {
  std::shared_ptr<const Snapshot> snapshot;  // the snapshot this state describes
  std::shared_ptr<const StaticZone> zone_source;
  std::vector<std::shared_ptr<const registry::RegistryData>> sources;  // per region
  // Service names that more than one (appid, env, zone) maps to (appids equal but for case):
  // a change there is settled by a full build, which keeps "the first one wins" exact.
  NameSet contested;
};

}  // namespace discodns::catalog
