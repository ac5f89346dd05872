// [ttl] → catalog::TtlPolicy (daemon/ttl_from_config.hpp): every field carried over, and the
// defaults of one are the defaults of the other.
#include "daemon/ttl_from_config.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace discodns::daemon {
namespace {

constexpr common::Nanos kS = common::kNanosPerSecond;
constexpr common::Nanos kT = 1'800'000'000LL * kS;
constexpr common::Nanos kReconcile = 15 * kS;

TEST(TtlPolicyFrom, Config) {
  config::TtlConfig c;
  c.renew_interval = std::chrono::seconds(60);
  c.max = std::chrono::seconds(45);
  c.negative = std::chrono::seconds(7);
  catalog::TtlPolicy p = ttl_policy_from(c);
  EXPECT_EQ(p.renew_interval_ns, 60 * kS);
  EXPECT_EQ(p.negative_s, 7u);
  EXPECT_EQ(catalog::ttl_at(catalog::good_until(kT, kT, kReconcile, p), kT, p), 45u);
  EXPECT_EQ(ttl_policy_from(config::TtlConfig{}), catalog::TtlPolicy{});
}

// Was in tests/engine/freshness_test.cpp (NegativeTtl.NeverLongerThanTheSoaSays).
TEST(TtlPolicyFrom, NegativeTtl) {
  config::TtlConfig config;
  config.negative = std::chrono::seconds(3);
  EXPECT_EQ(ttl_policy_from(config).negative_s, 3u);
}

}  // namespace
}  // namespace discodns::daemon
