// The TTL rules of catalog/ttl_policy.hpp, table-driven: lateness as of observation,
// good_until, the TTL at query time, and int64 extremes.
#include "catalog/ttl_policy.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace discodns::catalog {
namespace {

constexpr common::Nanos kS = common::kNanosPerSecond;
constexpr common::Nanos kT = 1'800'000'000LL * kS;  // "t = 0" of the cases
constexpr common::Nanos kMin = std::numeric_limits<common::Nanos>::min();
constexpr common::Nanos kMax = std::numeric_limits<common::Nanos>::max();
constexpr common::Nanos kReconcile = 15 * kS;

constexpr common::Nanos at(double seconds) {
  return kT + static_cast<common::Nanos>(seconds * static_cast<double>(kS));
}

struct Case {
  const char* what;
  common::Nanos renew;
  common::Nanos observed;
  common::Nanos reconcile;
  common::Nanos now;
  bool late;
  common::Nanos good_until;
  std::uint32_t ttl;
};

// Default policy: renew_interval 30 s, late_grace 5 s, TTLs clamped to [1, 30].
const std::vector<Case> kCases = {
    // README "TTLs" worked example.
    {"renewed 100, observed 125", at(100), at(125), kReconcile, at(126), false, at(140), 14},
    {"renewed 100, observed 140: late", at(100), at(140), kReconcile, at(141), true, kLate, 1},
    {"rounds down", at(100), at(125), kReconcile, at(126.5), false, at(140), 13},
    {"next reconcile is later than renew + 35", at(100), at(130), kReconcile, at(130), false,
     at(145), 15},
    {"renew + 35 is later than the next reconcile", at(100), at(105), kReconcile, at(105), false,
     at(135), 30},
    {"just renewed: max", at(0), at(0), kReconcile, at(0), false, at(35), 30},
    {"good_until passed: min", at(100), at(125), kReconcile, at(150), false, at(140), 1},
    // Lateness is observed - renew, never now - renew.
    {"renewed 40 s ago, observed 5 s after", at(-40), at(-35), kReconcile, at(0), false, at(-5), 1},
    {"observed exactly 35 s after renew", at(100), at(135), kReconcile, at(135), false, at(150),
     15},
    {"observed 35 s + 1 ns after renew", at(100), at(135) + 1, kReconcile, at(135), true, kLate, 1},
    {"never observed: never late", at(-300), 0, kReconcile, at(0), false, at(-265), 1},
    {"never observed, fresh", at(-5), 0, kReconcile, at(0), false, at(30), 30},
    {"file source (no reconcile)", at(100), at(110), 0, at(110), false, at(135), 25},
    {"renew after observation (clock skew)", at(200), at(100), kReconcile, at(100), false, at(235),
     30},
    // Any int64 a registry may send.
    {"renew at int64 min", kMin, at(0), kReconcile, at(0), true, kLate, 1},
    {"renew at int64 max", kMax, at(0), kReconcile, at(0), false, kMax, 30},
    {"renew at int64 min, never observed", kMin, 0, kReconcile, at(0), false, kMin + 35 * kS, 1},
    {"observed near int64 min", kMin + 1, kMin + 1, kReconcile, at(0), false, kMin + 1 + 35 * kS,
     1},
    {"observed at int64 max", at(0), kMax, kReconcile, at(0), true, kLate, 1},
    {"both at int64 max", kMax, kMax, kReconcile, at(0), false, kMax, 30},
    {"now at int64 min", kMax, kMax, kReconcile, kMin, false, kMax, 30},
};

TEST(TtlPolicy, Table) {
  TtlPolicy p;
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(is_late(c.renew, c.observed, p), c.late);
    common::Nanos until = good_until(c.renew, c.observed, c.reconcile, p);
    EXPECT_EQ(until, c.good_until);
    EXPECT_EQ(ttl_at(until, c.now, p), c.ttl);
  }
}

TEST(TtlPolicy, LateIsBelowEveryGoodUntil) {
  TtlPolicy p;
  for (const Case& c : kCases) {
    if (!c.late) {
      EXPECT_GT(good_until(c.renew, c.observed, c.reconcile, p), kLate) << c.what;
    }
  }
  EXPECT_EQ(ttl_at(kLate, kMin, p), p.min_s);
}

TEST(TtlPolicy, ClampsToConfiguredBounds) {
  TtlPolicy p;
  p.min_s = 5;
  p.max_s = 10;
  EXPECT_EQ(ttl_at(at(35), at(0), p), 10u);
  EXPECT_EQ(ttl_at(at(7), at(0), p), 7u);
  EXPECT_EQ(ttl_at(at(3), at(0), p), 5u);
  EXPECT_EQ(ttl_at(kLate, at(0), p), 5u);
  // A renew time from a clock ahead of ours never yields more than max.
  EXPECT_EQ(ttl_at(good_until(at(3600), at(0), kReconcile, p), at(0), p), 10u);
}

TEST(TtlPolicy, GraceAndIntervalComeFromThePolicy) {
  TtlPolicy p;
  p.renew_interval_ns = 60 * kS;
  p.late_grace_ns = 10 * kS;
  EXPECT_FALSE(is_late(at(0), at(70), p));
  EXPECT_TRUE(is_late(at(0), at(70) + 1, p));
  EXPECT_EQ(good_until(at(0), at(10), kReconcile, p), at(70));
}

}  // namespace
}  // namespace discodns::catalog
