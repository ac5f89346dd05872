// The TTL rules of ttl_policy.hpp, in saturating int64 arithmetic.
#include "catalog/ttl_policy.hpp"

#include <algorithm>

namespace discodns::catalog {
namespace {

constexpr common::Nanos kMax = std::numeric_limits<common::Nanos>::max();

common::Nanos saturating_add(common::Nanos a, common::Nanos b) {
  common::Nanos sum;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? kMax : kLate;
}

common::Nanos saturating_sub(common::Nanos a, common::Nanos b) {
  common::Nanos difference;
  if (!__builtin_sub_overflow(a, b, &difference)) return difference;
  return b < 0 ? kMax : kLate;
}

common::Nanos late_after(const TtlPolicy& p) {
  return saturating_add(p.renew_interval_ns, p.late_grace_ns);
}

}  // namespace

bool is_late(common::Nanos renew_ns, common::Nanos observed_ns, const TtlPolicy& p) {
  if (observed_ns == 0) return false;
  // observed − renew > L, compared as renew < observed − L so that nothing overflows: when
  // observed − L is below the int64 range, no renew time is lower still.
  common::Nanos deadline;
  if (__builtin_sub_overflow(observed_ns, late_after(p), &deadline)) return false;
  return renew_ns < deadline;
}

common::Nanos good_until(common::Nanos renew_ns, common::Nanos observed_ns,
                         common::Nanos reconcile_interval_ns, const TtlPolicy& p) {
  if (is_late(renew_ns, observed_ns, p)) return kLate;
  if (observed_ns == 0) observed_ns = renew_ns;
  common::Nanos until = std::max(saturating_add(observed_ns, reconcile_interval_ns),
                                 saturating_add(renew_ns, late_after(p)));
  return std::max(until, kLate + 1);  // kLate means late, and only that
}

std::uint32_t ttl_at(common::Nanos good_until_ns, common::Nanos now_ns, const TtlPolicy& p) {
  if (good_until_ns == kLate || good_until_ns <= now_ns) return p.min_s;
  common::Nanos seconds = saturating_sub(good_until_ns, now_ns) / common::kNanosPerSecond;
  if (seconds < p.min_s) return p.min_s;
  if (seconds > p.max_s) return p.max_s;
  return static_cast<std::uint32_t>(seconds);
}

}  // namespace discodns::catalog
