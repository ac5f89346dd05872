#include "catalog/ttl_policy.hpp"

#include <algorithm>

namespace discodns::catalog {

TtlPolicy TtlPolicy::from_config(const config::TtlConfig& ttl) {
  TtlPolicy p;
  p.renew_interval_ns = ttl.renew_interval.count() * common::kNanosPerSecond;
  p.min_s = static_cast<std::uint32_t>(ttl.min.count());
  p.max_s = static_cast<std::uint32_t>(ttl.max.count());
  p.late_grace_ns = ttl.late_grace.count() * common::kNanosPerSecond;
  p.stale_ttl_s = static_cast<std::uint32_t>(ttl.stale_ttl.count());
  p.max_stale_ns = ttl.max_stale.count() * common::kNanosPerSecond;
  p.negative_s = static_cast<std::uint32_t>(ttl.negative.count());
  return p;
}

std::uint32_t instance_ttl(common::Nanos renew_ns, common::Nanos now_ns, const TtlPolicy& p) {
  if (is_late(renew_ns, now_ns, p)) return p.min_s;
  // Not late bounds renew_ns from below; a renew in the future counts as now (no overflow).
  common::Nanos left = std::min(renew_ns, now_ns) + p.renew_interval_ns - now_ns;
  if (left <= 0) return p.min_s;
  common::Nanos seconds = left / common::kNanosPerSecond;
  if (seconds < p.min_s) return p.min_s;
  if (seconds > p.max_s) return p.max_s;
  return static_cast<std::uint32_t>(seconds);
}

}  // namespace discodns::catalog
