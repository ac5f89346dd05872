#include "daemon/ttl_from_config.hpp"

#include <cstdint>

namespace discodns::daemon {

// The loader bounds every value to 0..2147483647 s (RFC 2181 §8), so the casts and the
// nanosecond products cannot overflow.
catalog::TtlPolicy ttl_policy_from(const config::TtlConfig& ttl) {
  catalog::TtlPolicy p;
  p.renew_interval_ns = ttl.renew_interval.count() * common::kNanosPerSecond;
  p.min_s = static_cast<std::uint32_t>(ttl.min.count());
  p.max_s = static_cast<std::uint32_t>(ttl.max.count());
  p.late_grace_ns = ttl.late_grace.count() * common::kNanosPerSecond;
  p.stale_ttl_s = static_cast<std::uint32_t>(ttl.stale_ttl.count());
  p.max_stale_ns = ttl.max_stale.count() * common::kNanosPerSecond;
  p.negative_s = static_cast<std::uint32_t>(ttl.negative.count());
  return p;
}

}  // namespace discodns::daemon
