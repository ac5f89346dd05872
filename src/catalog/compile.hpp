// Compiling names into Blocks (catalog/snapshot.hpp): the zone file's records into one block,
// an app's instances in one zone into a service block, and a service block's freshness slots
// from the instances it was compiled from. Update path only; catalog/builder decides what to
// compile.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "catalog/build_state.hpp"
#include "catalog/freshness.hpp"
#include "catalog/snapshot.hpp"
#include "catalog/static_zone.hpp"
#include "catalog/ttl_policy.hpp"
#include "registry/model.hpp"

namespace discodns::catalog {

// How the instances of one region get their good_until (catalog/ttl_policy.hpp).
struct FreshnessRule {
  TtlPolicy ttl;
  common::Nanos reconcile_interval_ns = 0;
  // File sources: every instance counts as observed at the file's own time.
  common::Nanos frozen_now_ns = 0;

  common::Nanos good_until_of(const registry::AppInstance& i) const {
    common::Nanos observed = frozen_now_ns != 0 ? frozen_now_ns : i.observed_ns;
    return good_until(i.renew_ns, observed, reconcile_interval_ns, ttl);
  }
};

// The zone file's records as one block; the SOA serial is patched to `serial` unless 0.
std::shared_ptr<Block> compile_zone(const StaticZone& zone, std::uint32_t serial);

// One service block from an app's instances in one zone (sorted by hostname), with what it was
// compiled from. Host names that `snap` already serves (static names, other services) give
// way. The block's slots are allocated in `fresh`; the caller fills them (fill_freshness).
std::shared_ptr<ServiceOrigin> compile_service(const std::string& service, std::uint16_t region,
                                               const registry::AppKey& app,
                                               std::span<const registry::AppInstance> instances,
                                               const Snapshot& snap, FreshnessTable& fresh);

// Writes the slots of a service block from the instances it was compiled from (the same ones,
// or ones of the same shape): each record's good_until is the max over its instances.
void fill_freshness(const ServiceOrigin& origin, std::span<const registry::AppInstance> instances,
                    const FreshnessRule& rule, FreshnessTable& table);

}  // namespace discodns::catalog
