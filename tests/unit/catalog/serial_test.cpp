#include <gtest/gtest.h>

#include "catalog/serial.hpp"

namespace discodns::catalog {
namespace {

constexpr common::Nanos kS = common::kNanosPerSecond;

TEST(Serial, FollowsTimeAndNeverGoesBackwards) {
  EXPECT_EQ(next_serial(0, 1, 1'800'000'000 * kS), 1'800'000'000u);
  // Several changes within a second still move forward.
  EXPECT_EQ(next_serial(1'800'000'000u, 1, 1'800'000'000 * kS), 1'800'000'001u);
  // The zone file's serial is a floor.
  EXPECT_EQ(next_serial(5, 1'900'000'000u, 1'800'000'000 * kS), 1'900'000'000u);
  // Wraps per RFC 1982 instead of getting stuck.
  EXPECT_EQ(next_serial(0xFFFFFFFFu, 0, 0), 0u);
}

}  // namespace
}  // namespace discodns::catalog
