// TTL rules (design.md §4), pure functions of (renew time, now, policy).
#pragma once

#include <algorithm>
#include <cstdint>

#include "common/clock.hpp"
#include "config/config.hpp"

namespace discodns::catalog {

struct TtlPolicy {
  common::Nanos renew_interval_ns = 30 * common::kNanosPerSecond;
  std::uint32_t min_s = 1;
  std::uint32_t max_s = 30;
  common::Nanos late_grace_ns = 5 * common::kNanosPerSecond;
  std::uint32_t stale_ttl_s = 5;
  common::Nanos max_stale_ns = 3600 * common::kNanosPerSecond;
  std::uint32_t negative_s = 5;  // negative TTL cap below registry regions

  static TtlPolicy from_config(const config::TtlConfig& ttl);
};

// ttl = clamp(renew + renew_interval - now, min, max), in whole seconds (rounded down).
// A late instance gets min.
std::uint32_t instance_ttl(common::Nanos renew_ns, common::Nanos now_ns, const TtlPolicy& p);

// Late: no renew for longer than renew_interval + late_grace.
inline bool is_late(common::Nanos renew_ns, common::Nanos now_ns, const TtlPolicy& p) {
  // Compared without subtracting first: a registry's renew_timestamp may be any int64.
  return renew_ns < now_ns - (p.renew_interval_ns + p.late_grace_ns);
}

}  // namespace discodns::catalog
