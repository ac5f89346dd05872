// TTL rules (design.md §4, README "TTLs"), pure functions of an instance's renew time, the
// moment discodns saw that renew time (observed), the source's reconcile interval and `now`.
//
// With L = renew_interval + late_grace and R = the source's reconcile_interval:
//
//   late       ⇔ observed − renew > L                 (observed 0: observed = renew, never late)
//   good_until = max(observed + R, renew + L)          (late: kLate, the lowest int64)
//   ttl(now)   = clamp(good_until − now, min, max)     (whole seconds, rounded down; kLate: min)
//
// Renews reach discodns only with a reconcile (a full fetch every R), so a renew time held
// between reconciles is up to R old by construction: lateness is judged as of the moment it
// was observed, never against `now`, and stays as last observed while the registry is
// unreachable. good_until is the earliest moment discodns could learn that the instance is
// gone: the next reconcile, or the renew deadline plus grace, whichever is later.
#pragma once

#include <cstdint>
#include <limits>

#include "common/clock.hpp"

namespace discodns::catalog {

struct TtlPolicy {
  common::Nanos renew_interval_ns = 30 * common::kNanosPerSecond;
  std::uint32_t min_s = 1;
  std::uint32_t max_s = 30;
  common::Nanos late_grace_ns = 5 * common::kNanosPerSecond;
  std::uint32_t stale_ttl_s = 5;
  common::Nanos max_stale_ns = 3600 * common::kNanosPerSecond;
  // NXDOMAIN/NODATA at or below a registry region: SOA TTL min(negative TTL, this).
  std::uint32_t negative_s = 5;

  bool operator==(const TtlPolicy&) const = default;
};

// good_until of a late instance: lower than every other, so a max over instances works.
inline constexpr common::Nanos kLate = std::numeric_limits<common::Nanos>::min();

// observed_ns 0 (never observed: file sources, poll-only data) stands for observed = renew.
bool is_late(common::Nanos renew_ns, common::Nanos observed_ns, const TtlPolicy& p);

// max(observed + reconcile_interval, renew + renew_interval + late_grace), or kLate when
// late. Saturates instead of overflowing: a registry may send any int64.
common::Nanos good_until(common::Nanos renew_ns, common::Nanos observed_ns,
                         common::Nanos reconcile_interval_ns, const TtlPolicy& p);

// clamp(good_until − now, min, max) in whole seconds, rounded down; kLate gets min.
std::uint32_t ttl_at(common::Nanos good_until_ns, common::Nanos now_ns, const TtlPolicy& p);

}  // namespace discodns::catalog
