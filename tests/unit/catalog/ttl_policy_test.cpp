#include "catalog/ttl_policy.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace discodns::catalog {
namespace {

constexpr common::Nanos kS = common::kNanosPerSecond;
constexpr common::Nanos kNow = 1'800'000'000LL * kS;

TEST(TtlPolicy, FreshInstanceGetsTimeUntilNextRenew) {
  TtlPolicy p;
  EXPECT_EQ(instance_ttl(kNow, kNow, p), 30u);
  EXPECT_EQ(instance_ttl(kNow - 12 * kS, kNow, p), 18u);
  EXPECT_EQ(instance_ttl(kNow - 12 * kS - kS / 2, kNow, p), 17u);  // rounds down
}

TEST(TtlPolicy, NearRenewClampsToMinimum) {
  TtlPolicy p;
  EXPECT_EQ(instance_ttl(kNow - 29 * kS - kS / 2, kNow, p), 1u);
  EXPECT_EQ(instance_ttl(kNow - 32 * kS, kNow, p), 1u);  // overdue, not yet late
}

TEST(TtlPolicy, LateAfterIntervalPlusGrace) {
  TtlPolicy p;
  EXPECT_FALSE(is_late(kNow - 35 * kS, kNow, p));
  EXPECT_TRUE(is_late(kNow - 35 * kS - 1, kNow, p));
  EXPECT_EQ(instance_ttl(kNow - 600 * kS, kNow, p), 1u);
}

TEST(TtlPolicy, ExtremeRenewTimestampsDoNotOverflow) {
  TtlPolicy p;
  constexpr auto kMin = std::numeric_limits<common::Nanos>::min();
  constexpr auto kMax = std::numeric_limits<common::Nanos>::max();
  EXPECT_TRUE(is_late(kMin, kNow, p));
  EXPECT_EQ(instance_ttl(kMin, kNow, p), 1u);
  EXPECT_FALSE(is_late(kMax, kNow, p));
  EXPECT_EQ(instance_ttl(kMax, kNow, p), 30u);  // a renew in the future counts as now
}

TEST(TtlPolicy, ClampsToConfiguredBounds) {
  TtlPolicy p;
  p.min_s = 5;
  p.max_s = 10;
  EXPECT_EQ(instance_ttl(kNow, kNow, p), 10u);
  EXPECT_EQ(instance_ttl(kNow - 28 * kS, kNow, p), 5u);
  // A renew time from a clock ahead of ours never yields more than max.
  EXPECT_EQ(instance_ttl(kNow + 3600 * kS, kNow, p), 10u);
}

TEST(TtlPolicy, FromConfig) {
  config::TtlConfig c;
  c.renew_interval = std::chrono::seconds(60);
  c.max = std::chrono::seconds(45);
  TtlPolicy p = TtlPolicy::from_config(c);
  EXPECT_EQ(p.renew_interval_ns, 60 * kS);
  EXPECT_EQ(instance_ttl(kNow, kNow, p), 45u);
}

}  // namespace
}  // namespace discodns::catalog
